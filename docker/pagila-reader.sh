#!/usr/bin/env bash
# Least privilege for the rollup's source: a login role that can read the three tables the rollup
# needs and nothing else. Runs once, when the Pagila container initialises its data directory.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v reader="$PAGILA_READER_USER" -v reader_password="$PAGILA_READER_PASSWORD" <<'SQL'
create role :"reader" login password :'reader_password';
grant connect on database pagila to :"reader";
grant usage on schema public to :"reader";
grant select on public.rental, public.inventory, public.film to :"reader";
SQL
