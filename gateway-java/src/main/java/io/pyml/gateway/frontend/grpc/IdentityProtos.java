package io.pyml.gateway.frontend.grpc;

import io.pyml.gateway.identity.AuditEntry;
import io.pyml.gateway.identity.Grant;
import io.pyml.gateway.identity.TokenInfo;
import java.time.Instant;

/** The admin API's identity messages from the gateway's identity types. */
final class IdentityProtos {
  private IdentityProtos() {}

  static io.pyml.proto.v1.TokenInfo toProto(TokenInfo info) {
    return io.pyml.proto.v1.TokenInfo.newBuilder().setId(info.id())
        .setIdentity(info.identity()).setCreatedAtMs(info.created().toEpochMilli())
        .setRevokedAtMs(info.revoked().map(Instant::toEpochMilli).orElse(0L)).build();
  }

  static io.pyml.proto.v1.GrantInfo toProto(Grant grant) {
    return io.pyml.proto.v1.GrantInfo.newBuilder().setModelName(grant.model())
        .setIdentity(grant.identity()).setPermission(grant.permission().wireName())
        .setGrantedBy(grant.grantedBy()).setGrantedAtMs(grant.grantedAt().toEpochMilli())
        .build();
  }

  static io.pyml.proto.v1.AuditEntry toProto(AuditEntry entry) {
    return io.pyml.proto.v1.AuditEntry.newBuilder().setSeq(entry.seq())
        .setAtMs(entry.at().toEpochMilli()).setIdentity(entry.identity())
        .setAction(entry.action()).setModelName(entry.model())
        .setModelVersion(entry.version()).setOutcome(entry.outcome())
        .setDetail(entry.detail()).build();
  }
}
