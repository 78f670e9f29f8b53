-- One PostgreSQL server, one database per service: no service reads another's tables.
CREATE DATABASE intake;
CREATE DATABASE dispatch;
CREATE DATABASE notify;
