#!/bin/sh
# The Prometheus configuration and alert rules load, and the rules' unit tests pass
# (deploy/prometheus/rules_test.yml). Exit status 77 (skipped) without promtool.
# usage: alert_rules_test.sh REPOSITORY_ROOT
set -eu
cd "$1/deploy/prometheus"
if ! command -v promtool >/dev/null 2>&1; then
  echo "alert_rules_test: SKIPPED: promtool is missing (Debian: apt-get install prometheus)"
  exit 77
fi
promtool check config prometheus.yml
promtool check rules rules.yml
promtool test rules rules_test.yml
