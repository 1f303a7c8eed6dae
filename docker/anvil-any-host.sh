#!/bin/sh
# Stands in for anvil inside the devnet image: the same arguments, but `--host` becomes
# DEVNET_BIND_ADDR (default 0.0.0.0) so other containers reach the chain.
prev=
for arg; do
  shift
  if [ "$prev" = --host ]; then arg=${DEVNET_BIND_ADDR:-0.0.0.0}; fi
  set -- "$@" "$arg"
  prev=$arg
done
exec "$0.real" "$@"
