# bursar: a two-stage build (Rust toolchain, then a slim runtime).
FROM rust:1-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends cmake libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY examples ./examples
COPY schemas ./schemas
RUN cargo build --release --bin bursar

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/bursar /usr/local/bin/bursar
ENTRYPOINT ["bursar"]
CMD ["demo"]
