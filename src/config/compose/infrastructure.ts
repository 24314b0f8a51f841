/**
 * Infrastructure a stack runs beside its own services (databases, caches, brokers, monitoring,
 * log shippers), recognised by the image name. They are dependencies of the release, not part of
 * it: no HTTP health URL (they do not speak HTTP, or not on a path shipgate knows), and their
 * images do not follow the release version.
 */
const INFRASTRUCTURE_IMAGES = [
  // databases and caches
  'postgres', 'postgis', 'timescaledb', 'timescaledb-ha', 'mysql', 'mariadb', 'mongo', 'mongodb', 'redis', 'redis-stack', 'redis-stack-server', 'valkey', 'keydb', 'memcached', 'cassandra', 'clickhouse-server', 'clickhouse', 'questdb', 'influxdb', 'cockroach', 'etcd', 'consul', 'vault', 'minio', 'pgbouncer', 'pgadmin4',
  // brokers
  'rabbitmq', 'kafka', 'cp-kafka', 'zookeeper', 'cp-zookeeper', 'nats', 'redpanda', 'mosquitto', 'eclipse-mosquitto',
  // monitoring, tracing and logs
  'prometheus', 'alertmanager', 'pushgateway', 'node-exporter', 'postgres-exporter', 'redis_exporter', 'redis-exporter', 'cadvisor', 'grafana', 'loki', 'promtail', 'tempo', 'jaeger', 'all-in-one', 'otel-collector', 'opentelemetry-collector', 'opentelemetry-collector-contrib', 'telegraf', 'fluentd', 'fluent-bit', 'vector', 'filebeat', 'logstash', 'elasticsearch', 'opensearch', 'kibana', 'opensearch-dashboards', 'datadog-agent', 'agent',
  // proxies and mail catchers
  'nginx', 'traefik', 'haproxy', 'envoy', 'caddy', 'mailhog', 'mailpit',
];

/** The repository's last path component without registry, namespace, tag or digest: `ghcr.io/x/redis:7@sha..` -> `redis`. */
export function imageBaseName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const last = noDigest.slice(lastSlash + 1);
  return last.split(':')[0]!.toLowerCase();
}

/** Whether an image is infrastructure (see above); `bitnami/redis`, `redis:7-alpine`, `grafana/grafana-oss`. */
export function isInfrastructureImage(image: string | undefined): boolean {
  if (!image) return false;
  const name = imageBaseName(image);
  if (INFRASTRUCTURE_IMAGES.includes(name)) return true;
  // Vendor variants: grafana-oss, prometheus-node-exporter, bitnami's postgresql, redis-cluster…
  return /^(postgresql|grafana-|prometheus-|redis-|mysql-|mongo-|kafka-|elasticsearch-)/.test(name);
}
