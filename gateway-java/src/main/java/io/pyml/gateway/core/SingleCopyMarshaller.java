package io.pyml.gateway.core;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a message with ONE copy of its bytes: from gRPC's network buffers into an array of the
 * message's size, whose bytes fields ({@code Payload.arrow_ipc}) are views of that array. Used
 * for the client API's requests (the front end) and for the runtime's answers (the sidecar
 * client): both carry Arrow payloads of up to 64 MiB.
 *
 * <p>grpc-java's own protobuf marshaller parses messages over 4 MiB from a stream: a 24 MB
 * Arrow payload is read in chunks and copied again into the field's own array. Here the size is
 * known (gRPC enforced its limit before handing the stream over), so it is read once and parsed
 * with aliasing. The network buffers themselves are not aliased (zero copies): a request may
 * wait in a model's queue after its client call ended, when those buffers are already reused.
 * Writing is grpc-java's ({@link ProtoUtils}): it already drains the message straight into
 * the transport's buffers (one copy, from the message's arrays).
 */
public final class SingleCopyMarshaller<T extends Message>
    implements MethodDescriptor.PrototypeMarshaller<T> {
  private final T prototype;
  private final Parser<T> parser;
  private final MethodDescriptor.Marshaller<T> writer;

  @SuppressWarnings("unchecked")
  public SingleCopyMarshaller(T prototype) {
    this.prototype = prototype;
    this.parser = (Parser<T>) prototype.getParserForType();
    this.writer = ProtoUtils.marshaller(prototype);
  }

  /** {@code method} (of a client) with its responses parsed by a SingleCopyMarshaller. */
  public static <Q, R extends Message> MethodDescriptor<Q, R> forResponses(
      MethodDescriptor<Q, R> method, R prototype) {
    return method.toBuilder().setResponseMarshaller(new SingleCopyMarshaller<>(prototype)).build();
  }

  /** {@code service} with {@code method}'s requests parsed by a SingleCopyMarshaller. */
  public static <Q extends Message, R> ServerServiceDefinition forRequests(
      ServerServiceDefinition service, MethodDescriptor<Q, R> method, Q prototype) {
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> definition : service.getMethods()) {
      if (definition.getMethodDescriptor().getFullMethodName()
          .equals(method.getFullMethodName())) {
        @SuppressWarnings("unchecked")
        ServerMethodDefinition<Q, R> typed = (ServerMethodDefinition<Q, R>) definition;
        definition = ServerMethodDefinition.create(
            typed.getMethodDescriptor().toBuilder()
                .setRequestMarshaller(new SingleCopyMarshaller<>(prototype)).build(),
            typed.getServerCallHandler());
      }
      descriptor.addMethod(definition.getMethodDescriptor());
      methods.add(definition);
    }
    ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(builder::addMethod);
    return builder.build();
  }

  @Override
  public InputStream stream(T value) {
    return writer.stream(value);
  }

  @Override
  public T parse(InputStream stream) {
    if (!(stream instanceof KnownLength)) {
      return writer.parse(stream);
    }
    try {
      int size = stream.available();
      byte[] bytes = new byte[size];
      int read = stream.readNBytes(bytes, 0, size);
      if (read != size || stream.read() != -1) {
        throw new IOException("message size inaccurate: " + size + " announced");
      }
      // Wrapped as immutable (nothing else holds `bytes`): only then do the bytes fields of an
      // aliasing CodedInputStream become views of it rather than copies.
      CodedInputStream input = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
      input.enableAliasing(true);
      input.setSizeLimit(Integer.MAX_VALUE); // gRPC's message limit applies already
      T message = parser.parseFrom(input, ExtensionRegistryLite.getEmptyRegistry());
      input.checkLastTagWas(0);
      return message;
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL.withDescription("Invalid protobuf byte sequence")
          .withCause(e).asRuntimeException();
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("cannot read the message: " + e.getMessage())
          .withCause(e).asRuntimeException();
    }
  }

  @Override
  public T getMessagePrototype() {
    return prototype;
  }

  @Override
  @SuppressWarnings("unchecked")
  public Class<T> getMessageClass() {
    return (Class<T>) prototype.getClass();
  }
}
