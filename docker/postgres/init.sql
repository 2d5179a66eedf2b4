-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d), as the
-- POSTGRES_USER (crowd). One database per service: a service never reads another service's tables.
CREATE DATABASE crowd_accounts;
CREATE DATABASE crowd_tasks;
CREATE DATABASE crowd_matching;
CREATE DATABASE crowd_delivery;
CREATE DATABASE crowd_settlement;
CREATE DATABASE crowd_invoicing;
CREATE DATABASE crowd_paysandbox;
