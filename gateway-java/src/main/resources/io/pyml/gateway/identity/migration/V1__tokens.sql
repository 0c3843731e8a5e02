-- Bearer tokens: only a SHA-256 of each token's secret is kept (hex), never the token.
-- Times are epoch milliseconds: the same column type on SQLite and PostgreSQL.
CREATE TABLE tokens (
  id            VARCHAR(32)  PRIMARY KEY,
  identity      VARCHAR(256) NOT NULL,
  secret_sha256 VARCHAR(64)  NOT NULL,
  created_at    BIGINT       NOT NULL,
  revoked_at    BIGINT
);
