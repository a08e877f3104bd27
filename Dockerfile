# Build a static binary, ship it on a small base with wget for healthchecks.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# nomsgpack: gin's MessagePack codec is not used (JSON only).
RUN CGO_ENABLED=0 go build -tags nomsgpack -trimpath -ldflags="-s -w" -o /out/switchyard ./cmd/switchyard

FROM alpine:3.20
RUN adduser -D -u 10001 switchyard
COPY --from=build /out/switchyard /usr/local/bin/switchyard
COPY config /etc/switchyard
USER switchyard
WORKDIR /home/switchyard
EXPOSE 8080
ENTRYPOINT ["switchyard"]
CMD ["serve", "--config", "/etc/switchyard/demo.yaml"]
