# sfbex_exporter: a static binary on an empty base image.
#
#   buildah bud -t sfbex_exporter .          (or: docker build -t sfbex_exporter .)
#   podman run -p 9726:9726 -e SFBEX_SIP_DOMAINS=contoso.com sfbex_exporter
#
# scripts/release.sh builds it with VERSION, REVISION and BUILD_DATE set from git
# (.git is not in the build context). The final stage is checked by test/container
# (with buildah, from a binary built by scripts/build.sh as here): keep its first line
# "FROM scratch AS final", copy from the build stage only /out/sfbex_exporter and the CA
# bundle, and keep it free of line continuations.

# Fully qualified: buildah and podman refuse short names without a registry configuration.
FROM docker.io/library/golang:1.26-bookworm AS build
ARG VERSION=
ARG REVISION=
ARG BUILD_DATE=
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# scripts/build.sh stamps VERSION, REVISION and BUILD_DATE into --version and sfbex_exporter_build_info.
RUN VERSION="${VERSION}" REVISION="${REVISION}" BUILD_DATE="${BUILD_DATE}" BRANCH= scripts/build.sh /out/sfbex_exporter

FROM scratch AS final
ARG VERSION=
ARG REVISION=
ARG BUILD_DATE=
LABEL org.opencontainers.image.title="sfbex_exporter"
LABEL org.opencontainers.image.description="Prometheus exporter for the Skype for Business / Lync Server and Exchange integration"
LABEL org.opencontainers.image.source="https://github.com/sfbex/sfbex_exporter"
LABEL org.opencontainers.image.documentation="https://github.com/sfbex/sfbex_exporter/blob/main/README.md"
LABEL org.opencontainers.image.version="${VERSION}"
LABEL org.opencontainers.image.revision="${REVISION}"
LABEL org.opencontainers.image.created="${BUILD_DATE}"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/sfbex_exporter /sfbex_exporter
# --help points to docs/configuration.md: with the working directory /, that path opens here.
COPY docs/*.md README.md /docs/
WORKDIR /
USER 65534:65534
EXPOSE 9726
ENTRYPOINT ["/sfbex_exporter"]
