# sfbex_exporter: a static binary on an empty base image.
#
#   docker build -t sfbex_exporter .
#   docker run -p 9726:9726 -e SFBEX_SIP_DOMAINS=contoso.com sfbex_exporter
#
# The final stage is checked by test/container (with buildah, from a binary
# built the same way): keep its first line "FROM scratch AS final" and copy
# from the build stage only /out/sfbex_exporter and the CA bundle.

FROM golang:1.26-bookworm AS build
# docker build --build-arg VERSION=1.2.3 --build-arg REVISION=$(git rev-parse HEAD) sets what
# --version and sfbex_exporter_build_info report (.git is not in the build context, so Go
# cannot stamp the revision itself).
ARG VERSION=dev
ARG REVISION=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION}" -o /out/sfbex_exporter ./cmd/sfbex_exporter

FROM scratch AS final
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/sfbex_exporter /sfbex_exporter
USER 65534:65534
EXPOSE 9726
ENTRYPOINT ["/sfbex_exporter"]
