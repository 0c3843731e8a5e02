-- Who may do what. A grant gives one identity one permission on one model ('*': every model);
-- a stronger permission includes the weaker ones (admin > deploy > predict), as MLflow's
-- MANAGE > EDIT > READ. One row per identity and model: granting again replaces the level.
CREATE TABLE grants (
  identity    VARCHAR(256) NOT NULL,
  model       VARCHAR(256) NOT NULL,
  permission  VARCHAR(16)  NOT NULL,
  granted_by  VARCHAR(256) NOT NULL,
  granted_at  BIGINT       NOT NULL,
  PRIMARY KEY (identity, model)
);

-- Gateway admins: every permission on every model, tokens and home-folder deploys.
CREATE TABLE gateway_admins (
  identity    VARCHAR(256) PRIMARY KEY,
  granted_by  VARCHAR(256) NOT NULL,
  granted_at  BIGINT       NOT NULL
);

-- Every admin action and every refused call. Rows are only ever inserted: the store has no
-- statement that updates or deletes them. seq is given by the gateway's one audit writer.
CREATE TABLE audit (
  seq         BIGINT        PRIMARY KEY,
  at          BIGINT        NOT NULL,
  identity    VARCHAR(256)  NOT NULL,
  action      VARCHAR(64)   NOT NULL,
  model       VARCHAR(256)  NOT NULL,
  version     BIGINT        NOT NULL,
  outcome     VARCHAR(32)   NOT NULL,
  detail      VARCHAR(1024) NOT NULL
);
CREATE INDEX audit_model ON audit (model, seq);
