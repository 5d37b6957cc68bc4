# The participation binary for docker-compose.yml's topology profile.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/participation ./cmd/participation

# alpine: wget for the healthcheck; the binary is static
FROM alpine:3.22
RUN adduser -D -H -u 10001 participation
COPY --from=build /out/participation /usr/local/bin/participation
USER participation
EXPOSE 8080 9090
ENTRYPOINT ["participation"]
CMD ["serve"]
