# The runner job: build the binary (migrations and the seed sample are built into it), then a slim
# runtime image holding only the binary.
# `docker compose up` runs `runner migrate`, the same command the tests run.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Everything cargo may read (manifest targets, migrations and seeds built into the binary);
# .dockerignore keeps target/ and data out.
COPY . .
RUN cargo build --release --locked --bin runner

FROM debian:bookworm-slim AS runtime
# A regular user (a system user's uid would be below 1000), without a home directory of its own.
RUN useradd --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin runner
WORKDIR /app
COPY --from=build /src/target/release/runner /usr/local/bin/runner
# By uid (the runner user above), so tools that check for a non-root user can tell without /etc/passwd.
USER 10001
ENTRYPOINT ["runner"]
CMD ["migrate"]
