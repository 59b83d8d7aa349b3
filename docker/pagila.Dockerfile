# syntax=docker/dockerfile:1
# PostgreSQL holding the real Pagila sample database (the rollup's source), pinned to one commit
# and checked against known SHA-256 sums. Newer Pagila commits need PostgreSQL 18.
# Build context: the docker/ folder (see docker-compose.yml). ADD --checksum needs BuildKit with
# Dockerfile syntax >= 1.6, hence the syntax line above.

FROM postgres:17-bookworm
ARG PAGILA_COMMIT=5ba5a57aeb159f75f02aca2432d3c262186d13d3
# Files from a URL are added with mode 0600; the entrypoint reads them as user postgres.
ADD --chmod=0644 \
    --checksum=sha256:8ce358e4c8014087b85296694a0893887bd7a4190e3ce407f2721b86b98e5707 \
    https://raw.githubusercontent.com/devrimgunduz/pagila/${PAGILA_COMMIT}/pagila-schema.sql \
    /docker-entrypoint-initdb.d/10-pagila-schema.sql
ADD --chmod=0644 \
    --checksum=sha256:880580fb2cd4daaa99f290ced264988cdd657b3158be63cd281466f796f6dbf2 \
    https://raw.githubusercontent.com/devrimgunduz/pagila/${PAGILA_COMMIT}/pagila-data.sql \
    /docker-entrypoint-initdb.d/20-pagila-data.sql
# Executable, so the entrypoint runs it (rather than sourcing it) after the two SQL files.
COPY --chmod=0755 pagila-reader.sh /docker-entrypoint-initdb.d/30-pagila-reader.sh
