#!/bin/sh
# Jaeger all-in-one on this machine: UI, collector and in-memory storage in one
# container (traces are lost when it stops). Then point streambus at it:
#
#   OTLP/HTTP (recommended):  OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 ./your-service
#   Jaeger Thrift (the seed's exporter = "jaeger"):
#                             OTEL_TRACES_EXPORTER=jaeger OTEL_EXPORTER_JAEGER_ENDPOINT=http://localhost:14268/api/traces ./your-service
#   the demo:                 OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 tools/run demo
#
# and open http://localhost:16686. Stop it with: docker rm -f jaeger
#
# Ports: 16686 UI and query API, 4318 OTLP/HTTP, 4317 OTLP/gRPC (not used by
# streambus, which speaks OTLP over HTTP only), 14268 Jaeger Thrift over HTTP
# (/api/traces).
set -eu

# Jaeger v2 (one binary built on the OpenTelemetry Collector; OTLP is on by default).
# Pin a release you have tested rather than "latest".
IMAGE="${JAEGER_IMAGE:-jaegertracing/jaeger:latest}"

docker run -d --name jaeger \
  -p 16686:16686 \
  -p 4317:4317 \
  -p 4318:4318 \
  -p 14268:14268 \
  "$IMAGE"

# Jaeger v1 (1.35 or later) works the same way; its OTLP receiver must be switched on:
#
#   docker run -d --name jaeger -e COLLECTOR_OTLP_ENABLED=true \
#     -p 16686:16686 -p 4317:4317 -p 4318:4318 -p 14268:14268 \
#     jaegertracing/all-in-one:1.76.0

echo "Jaeger UI: http://localhost:16686"
