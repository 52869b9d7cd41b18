#!/usr/bin/env bash
# Kept for its name (Package.swift cites it): `bench/compare.sh consumer`.
exec "$(dirname "$0")/compare.sh" consumer "$@"
