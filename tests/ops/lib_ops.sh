# tests/ops/lib_ops.sh - helpers for the operations tests.  Source after
# ../lib.sh.
# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
  local i
  for i in $(seq 1 $(( ${2:-20} * 10 ))); do
    (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
    sleep 0.1
  done
  return 1
}
# scrape PORT: GET /metrics.
scrape() {
  python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$1/metrics', timeout=10).read().decode())"
}
# metric TEXT-FILE 'NAME{label="v"}': the sample's value ("" if absent).
metric() {
  awk -v k="$2" '$1 == k { print $2 }' "$1"
}
