#!/usr/bin/env bash
# Validate everything under deploy/ without Docker, a cluster or any network beyond
# loopback: compose schema, yamllint, the secrets generator, Prometheus' config and
# alert rules (promtool when installed), both nginx templates (nginx -t, and a live
# gateway against stand-in upstreams checked with curl), and every kustomization of the
# Kubernetes manifests. One line per check; exits non-zero when any check fails.
# Usage: scripts/validate-deploy.sh            (from anywhere; ~5 s)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
MIME_TYPES="${MIME_TYPES:-/etc/nginx/mime.types}"
UV_RUN=(uv run --no-sync)

TMP="$(mktemp -d)"
# nginx workers run as `nobody` when this script runs as root: let them in.
chmod 755 "$TMP"
PIDS=()
FAILED=0

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# check NAME COMMAND...: run, print one line, show the output's tail on failure.
check() {
    local name="$1"
    shift
    local out
    if out="$("$@" 2>&1)"; then
        printf 'ok    %s\n' "$name"
    else
        printf 'FAIL  %s\n' "$name"
        printf '%s\n' "$out" | tail -n 25 | sed 's/^/      /'
        FAILED=1
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ---------------------------------------------------------------- compose and YAML
check "docker-compose.yml matches the compose-spec schema" \
    "${UV_RUN[@]}" check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

check "yamllint (compose, k8s, deploy)" \
    "${UV_RUN[@]}" yamllint --strict -c deploy/.yamllint docker-compose.yml deploy/

check "secrets generator covers every secret compose mounts" \
    "${UV_RUN[@]}" python deploy/secrets/generate.py --check-compose docker-compose.yml --out "$TMP/secrets"

# ---------------------------------------------------------------- Prometheus
check "alert rules: shape, severities, runbooks in docs/operations.md, metrics the services export" \
    "${UV_RUN[@]}" python deploy/prometheus/check_rules.py
# promtool comes with Debian's `prometheus` package (apt-get install prometheus).
PROMTOOL="${PROMTOOL:-$(command -v promtool || true)}"
if [ -n "$PROMTOOL" ]; then
    check "promtool check config deploy/prometheus/prometheus.yml (and its rule file)" \
        "$PROMTOOL" check config deploy/prometheus/prometheus.yml
    check "promtool test rules deploy/prometheus/alerts.test.yml" \
        "$PROMTOOL" test rules deploy/prometheus/alerts.test.yml
else
    printf 'skip  promtool not installed (apt-get install prometheus): PromQL not checked\n'
fi

# ---------------------------------------------------------------- nginx templates
GATEWAY_PORT="$(free_port)"
# The server template's placeholders (NAME=VALUE), given alike to both renderers below.
# The limits are set here, not left at their defaults: the burst check below counts on
# AUTH_BURST=20 (the defaults for an office behind one address are tested in
# tests/e2e/test_gateway_limits.py).
SERVER_VALUES=(GATEWAY_PORT="127.0.0.1:$GATEWAY_PORT" TRUSTED_PROXY_CIDR=127.0.0.1/32
    API_RATE_LIMIT=20r/s API_BURST=100 AUTH_RATE_LIMIT=30r/m AUTH_BURST=20)
declare -A UPSTREAM_PORT
for svc in identity surveys responses reporting notifier web; do
    UPSTREAM_PORT[$svc]="$(free_port)"
    SERVER_VALUES+=("${svc^^}_UPSTREAM=127.0.0.1:${UPSTREAM_PORT[$svc]}")
done
mkdir -p "$TMP/var"

render_server() {
    python3 deploy/nginx/render.py deploy/nginx/templates/bibmon.conf.template "$1" \
        "${SERVER_VALUES[@]}"
}

render_both() {
    render_server "$TMP/bibmon.conf" &&
        python3 deploy/nginx/render.py deploy/nginx/nginx-dev.conf.template "$TMP/var/nginx.conf" \
            VAR_DIR="$TMP/var" SERVER_CONF="$TMP/bibmon.conf" MIME_TYPES="$MIME_TYPES"
}
check "nginx templates render with string.Template (make run)" render_both

# The official nginx image renders with envsubst, restricted to the defined env vars
# (docker-entrypoint.d/20-envsubst-on-templates.sh); it must give the same text.
envsubst_same() {
    env -i PATH="$PATH" HOME=/root HOSTNAME=gateway NGINX_VERSION=1.27.0 "${SERVER_VALUES[@]}" \
        sh -c 'defined_envs=$(printf "\${%s} " $(awk "END { for (name in ENVIRON) { print name } }" </dev/null)); envsubst "$defined_envs"' \
        <deploy/nginx/templates/bibmon.conf.template >"$TMP/bibmon.envsubst.conf" &&
        diff -u "$TMP/bibmon.conf" "$TMP/bibmon.envsubst.conf"
}
if command -v envsubst >/dev/null; then
    check "envsubst (nginx image) renders bibmon.conf identically" envsubst_same
else
    printf 'skip  envsubst not installed (apt-get install gettext-base)\n'
fi

# The docker flavour: bibmon.conf inside a stock main config, like the nginx image's.
docker_flavour() {
    cat >"$TMP/docker-main.conf" <<EOF
pid $TMP/docker.pid;
error_log stderr;
events {}
http {
    include $MIME_TYPES;
    client_body_temp_path $TMP/docker_body;
    proxy_temp_path $TMP/docker_proxy;
    fastcgi_temp_path $TMP/docker_fastcgi;
    uwsgi_temp_path $TMP/docker_uwsgi;
    scgi_temp_path $TMP/docker_scgi;
    access_log off;
    include $TMP/bibmon.conf;
}
EOF
    "$NGINX" -t -q -e stderr -p "$TMP" -c "$TMP/docker-main.conf"
}
check "nginx -t: bibmon.conf.template (http context, as in the nginx image)" docker_flavour
check "nginx -t: nginx-dev.conf.template (make run)" \
    "$NGINX" -t -q -e stderr -p "$TMP/var" -c "$TMP/var/nginx.conf"

# ---------------------------------------------------------------- live gateway
# Stand-in upstreams for four services and the web client; notifier's port stays closed
# (502 check).
python3 deploy/nginx/echo_upstream.py \
    identity="${UPSTREAM_PORT[identity]}" surveys="${UPSTREAM_PORT[surveys]}" \
    responses="${UPSTREAM_PORT[responses]}" reporting="${UPSTREAM_PORT[reporting]}" \
    web="${UPSTREAM_PORT[web]}" \
    >"$TMP/echo.log" 2>&1 &
PIDS+=($!)
"$NGINX" -e stderr -p "$TMP/var" -c "$TMP/var/nginx.conf" 2>"$TMP/nginx.err" &
PIDS+=($!)

GW="http://127.0.0.1:$GATEWAY_PORT"
wait_ready() {
    local i
    for i in $(seq 1 50); do
        if curl -fsS -o /dev/null "$GW/gateway/health" 2>/dev/null &&
            grep -q ready "$TMP/echo.log" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "gateway or stand-in upstreams did not start"
    cat "$TMP/nginx.err" "$TMP/echo.log"
    return 1
}
check "gateway starts (unprivileged config, port $GATEWAY_PORT)" wait_ready

# assert_json FILE PYTHON-EXPR: evaluate EXPR with `b` = parsed JSON body.
assert_json() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit(f"expected {sys.argv[2]}; got {json.dumps(b)[:600]}")
EOF
}
# header FILE NAME: value of a response header (case-insensitive) from curl -D output.
header() {
    tr -d '\r' <"$1" | awk -v n="$(echo "$2" | tr 'A-Z' 'a-z')" -F': ' 'tolower($1) == n { sub(/^[^:]*: /, ""); print; exit }'
}
status_of() { tr -d '\r' <"$1" | awk 'NR == 1 { print $2 }'; }

routing_without_rewrite() {
    curl -sS -D "$TMP/h1" -o "$TMP/b1" -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' \
        "$GW/api/identity/users?limit=5" || return 1
    [ "$(status_of "$TMP/h1")" = 200 ] || { echo "status $(status_of "$TMP/h1")"; return 1; }
    assert_json "$TMP/b1" 'b["service"] == "identity" and b["path"] == "/api/identity/users?limit=5"' &&
        assert_json "$TMP/b1" 'b["headers"]["traceparent"].startswith("00-0af7651916cd43dd")' &&
        assert_json "$TMP/b1" 'b["headers"]["x-forwarded-for"] == "127.0.0.1" and b["headers"]["x-forwarded-proto"] == "http"' &&
        assert_json "$TMP/b1" 'len(b["headers"]["x-request-id"]) == 32' || return 1
    curl -sS -o "$TMP/b2" "$GW/api/surveys/surveys/42/publish" -X POST -d '{}' -H 'Content-Type: application/json' &&
        assert_json "$TMP/b2" 'b["service"] == "surveys" and b["path"] == "/api/surveys/surveys/42/publish"' || return 1
    curl -sS -o "$TMP/b3" "$GW/api/responses/surveys/1/response" &&
        assert_json "$TMP/b3" 'b["service"] == "responses" and b["path"] == "/api/responses/surveys/1/response"' || return 1
    curl -sS -o "$TMP/b4" "$GW/api/reporting/open-data/surveys/1.csv" &&
        assert_json "$TMP/b4" 'b["service"] == "reporting" and b["path"] == "/api/reporting/open-data/surveys/1.csv"'
}
check "routes /api/<service>/ to its upstream without rewriting; forwards traceparent, X-Forwarded-*, X-Request-ID" routing_without_rewrite

request_id() {
    # A well-formed id from the client is kept, end to end; a malformed one is replaced.
    curl -sS -D "$TMP/h2" -o "$TMP/b5" -H 'X-Request-ID: abc-123-def-456' "$GW/api/identity/me" || return 1
    [ "$(header "$TMP/h2" X-Request-ID)" = abc-123-def-456 ] || { echo "response X-Request-ID: $(header "$TMP/h2" X-Request-ID)"; return 1; }
    assert_json "$TMP/b5" 'b["headers"]["x-request-id"] == "abc-123-def-456"' || return 1
    curl -sS -o "$TMP/b6" -H 'X-Request-ID: bad id"with quotes' "$GW/api/identity/me" &&
        assert_json "$TMP/b6" 'b["headers"]["x-request-id"] != "bad id\"with quotes" and len(b["headers"]["x-request-id"]) == 32'
}
check "X-Request-ID: kept when well-formed, generated when absent or malformed" request_id

security_headers() {
    local h="$TMP/h1" name
    for name in Content-Security-Policy X-Content-Type-Options X-Frame-Options Referrer-Policy Permissions-Policy X-Request-ID; do
        [ -n "$(header "$h" "$name")" ] || { echo "missing $name"; return 1; }
    done
    header "$h" Content-Security-Policy | grep -q "default-src 'self'" || { echo "CSP without default-src 'self'"; return 1; }
    header "$h" Content-Security-Policy | grep -q "frame-ancestors 'none'" || { echo "CSP without frame-ancestors"; return 1; }
    [ "$(header "$h" X-Content-Type-Options)" = nosniff ] || return 1
    [ "$(header "$h" X-Frame-Options)" = DENY ] || return 1
    [ "$(header "$h" Referrer-Policy)" = no-referrer ] || return 1
    [ -z "$(header "$h" Strict-Transport-Security)" ] || { echo "HSTS sent over plain HTTP"; return 1; }
    [ "$(header "$h" Server)" = nginx ] || { echo "Server: $(header "$h" Server) (server_tokens?)"; return 1; }
}
check "security headers present; no HSTS over plain HTTP; server_tokens off" security_headers

client_address() {
    # From the trusted proxy (127.0.0.1 here): its X-Forwarded-For and -Proto are believed.
    curl -sS -D "$TMP/hp1" -o "$TMP/bp1" -H 'X-Forwarded-For: 198.51.100.9, 203.0.113.7' \
        -H 'X-Forwarded-Proto: https' "$GW/api/surveys/surveys" || return 1
    assert_json "$TMP/bp1" 'b["headers"]["x-forwarded-for"] == "203.0.113.7" and b["headers"]["x-forwarded-proto"] == "https"' || return 1
    [ -n "$(header "$TMP/hp1" Strict-Transport-Security)" ] || { echo "no HSTS behind a TLS-terminating proxy"; return 1; }
    # From anyone else (127.0.0.2): their own address, whatever they claim; no HSTS.
    curl -sS -D "$TMP/hp2" -o "$TMP/bp2" --interface 127.0.0.2 -H 'X-Forwarded-For: 203.0.113.7' \
        -H 'X-Forwarded-Proto: https' "$GW/api/surveys/surveys" || return 1
    assert_json "$TMP/bp2" 'b["headers"]["x-forwarded-for"] == "127.0.0.2" and b["headers"]["x-forwarded-proto"] == "http"' || return 1
    [ -z "$(header "$TMP/hp2" Strict-Transport-Security)" ] || { echo "HSTS on a spoofed X-Forwarded-Proto"; return 1; }
}
check "client address and scheme from the trusted proxy only (set_real_ip_from); HSTS behind TLS" client_address

internal_paths() {
    local path code
    for path in /metrics /metrics/ /health/ready /health/live; do
        code="$(curl -sS -D "$TMP/hi" -o "$TMP/bi" -w '%{http_code}' "$GW$path")" || return 1
        [ "$code" = 404 ] || { echo "$path answered $code"; return 1; }
        header "$TMP/hi" Content-Type | grep -q '^application/problem+json' || { echo "$path: not problem+json"; return 1; }
    done
    ! grep -q '"service"' "$TMP/bi" || { echo "$path reached an upstream"; return 1; }
}
check "/metrics and /health/ are not routed publicly (404 problem+json)" internal_paths

payload_too_large() {
    head -c 2097152 /dev/zero | tr '\0' 'a' >"$TMP/2mb.json"
    curl -sS -D "$TMP/h3" -o "$TMP/b7" -X PUT -H 'Content-Type: application/json' \
        --data-binary @"$TMP/2mb.json" "$GW/api/responses/surveys/1/response" || return 1
    [ "$(status_of "$TMP/h3")" = 413 ] || { echo "status $(status_of "$TMP/h3")"; return 1; }
    header "$TMP/h3" Content-Type | grep -q '^application/problem+json' || { echo "Content-Type: $(header "$TMP/h3" Content-Type)"; return 1; }
    [ "$(header "$TMP/h3" X-Content-Type-Options)" = nosniff ] || { echo "security headers missing on 413"; return 1; }
    assert_json "$TMP/b7" 'b["status"] == 413 and b["title"] == "Payload Too Large"'
}
check "2 MiB body answers 413 application/problem+json" payload_too_large

rate_limited() {
    local i code got429=0
    for i in $(seq 1 40); do
        code="$(curl -sS -o "$TMP/b8" -D "$TMP/h4" -w '%{http_code}' -X POST \
            -H 'Content-Type: application/json' -d '{"username":"x","password":"y"}' \
            "$GW/api/identity/auth/login")"
        if [ "$code" = 429 ]; then got429=1; break; fi
    done
    [ "$got429" = 1 ] || { echo "no 429 after 40 rapid logins"; return 1; }
    [ "$i" -gt 20 ] || { echo "429 already at request $i (burst 20 expected)"; return 1; }
    header "$TMP/h4" Content-Type | grep -q '^application/problem+json' || { echo "Content-Type: $(header "$TMP/h4" Content-Type)"; return 1; }
    [ -n "$(header "$TMP/h4" Retry-After)" ] || { echo "no Retry-After"; return 1; }
    [ "$(header "$TMP/h4" X-Frame-Options)" = DENY ] || { echo "security headers missing on 429"; return 1; }
    assert_json "$TMP/b8" 'b["status"] == 429' || return 1
    # Other identity paths are not in the auth zone.
    [ "$(curl -sS -o /dev/null -w '%{http_code}' "$GW/api/identity/organisations")" = 200 ]
}
check "burst on /api/identity/auth/ answers 429 problem+json with Retry-After" rate_limited

bad_gateway() {
    curl -sS -D "$TMP/h5" -o "$TMP/b9" "$GW/api/notifier/emails" || return 1
    [ "$(status_of "$TMP/h5")" = 502 ] || { echo "status $(status_of "$TMP/h5")"; return 1; }
    header "$TMP/h5" Content-Type | grep -q '^application/problem+json' || return 1
    assert_json "$TMP/b9" 'b["status"] == 502'
}
check "unreachable service answers 502 problem+json" bad_gateway

static_and_unknown() {
    # Every path outside /api/ goes to the web client, unrewritten, with the client address.
    curl -sS -o "$TMP/index" "$GW/" &&
        assert_json "$TMP/index" 'b["service"] == "web" and b["path"] == "/" and b["headers"]["x-forwarded-for"] == "127.0.0.1"' || return 1
    curl -sS -o "$TMP/index2" "$GW/vragenlijsten/12?x=1" &&
        assert_json "$TMP/index2" 'b["service"] == "web" and b["path"] == "/vragenlijsten/12?x=1"' || return 1
    curl -sS -o "$TMP/index3" "$GW/static/app.css" &&
        assert_json "$TMP/index3" 'b["service"] == "web" and b["path"] == "/static/app.css"' || return 1
    curl -sS -D "$TMP/h6" -o "$TMP/b10" "$GW/api/unknown/x" || return 1
    [ "$(status_of "$TMP/h6")" = 404 ] && header "$TMP/h6" Content-Type | grep -q '^application/problem+json'
}
check "/ serves the web client; unknown /api/ path answers 404 problem+json" static_and_unknown

gzip_json() {
    curl -sS -D "$TMP/h7" -o /dev/null -H 'Accept-Encoding: gzip' "$GW/api/reporting/big" || return 1
    [ "$(header "$TMP/h7" Content-Encoding)" = gzip ] || { echo "JSON not gzipped"; return 1; }
    curl -sS -D "$TMP/h8" -o /dev/null -H 'Accept-Encoding: gzip' -X POST "$GW/api/identity/auth/big" -d '{}' || return 1
    local code
    code="$(status_of "$TMP/h8")"
    # (may already be rate-limited by the check above; either way never gzipped)
    [ -z "$(header "$TMP/h8" Content-Encoding)" ] || { echo "auth answer gzipped (status $code)"; return 1; }
}
check "gzip for JSON, none on /api/identity/auth/ (BREACH)" gzip_json

web_pages_not_gzipped() {
    # Pages carry a CSRF token and echo form input: never compressed (BREACH).
    curl -sS -D "$TMP/h9" -o /dev/null -H 'Accept-Encoding: gzip' "$GW/vragenlijsten/big" || return 1
    [ -z "$(header "$TMP/h9" Content-Encoding)" ] || { echo "web page gzipped"; return 1; }
    curl -sS -D "$TMP/h10" -o /dev/null -H 'Accept-Encoding: gzip' "$GW/static/big" || return 1
    [ "$(header "$TMP/h10" Content-Encoding)" = gzip ] || { echo "static file not gzipped"; return 1; }
}
check "web pages never gzipped (BREACH), static files are" web_pages_not_gzipped

access_log_json() {
    [ -s "$TMP/var/access.log" ] || { echo "no access log"; return 1; }
    python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$TMP/var/access.log"
}
check "access log is JSON lines" access_log_json

# ---------------------------------------------------------------- Kubernetes
# Every kustomization (the base and each overlay) is built and validated as a whole.
if command -v kubectl >/dev/null; then
    KUSTOMIZE=(kubectl kustomize)
elif command -v kustomize >/dev/null; then
    KUSTOMIZE=(kustomize build)
else
    KUSTOMIZE=()
fi
kustomize_valid() {
    local out="$TMP/kustomize-$(echo "$1" | tr / -).yaml"
    "${KUSTOMIZE[@]}" "$1" >"$out" &&
        "${UV_RUN[@]}" kubernetes-validate --strict --quiet "$out"
}
pinned_images() {
    "${KUSTOMIZE[@]}" "$1" | "${UV_RUN[@]}" python deploy/k8s/check_images.py
}
if [ "${#KUSTOMIZE[@]}" -gt 0 ]; then
    for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
        dir="${dir%/}"
        check "${KUSTOMIZE[*]} $dir | kubernetes-validate --strict" kustomize_valid "$dir"
    done
    check "production images pinned to exact versions" pinned_images deploy/k8s/overlays/production
else
    printf 'FAIL  neither kubectl nor kustomize installed (apt-get install kubernetes-client)\n'
    FAILED=1
fi
check "k8s ConfigMaps match deploy/ files (no drift)" \
    "${UV_RUN[@]}" python deploy/k8s/check_configmaps.py

if [ "$FAILED" != 0 ]; then
    echo "validate-deploy: FAILED"
    exit 1
fi
echo "validate-deploy: all checks passed"
