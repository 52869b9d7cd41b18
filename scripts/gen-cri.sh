#!/usr/bin/env bash
# Regenerates Sources/CRI/api.pb.swift from Protos/runtime/v1/api.proto (the CRI subset tawon
# uses). Needs protoc (Debian's protobuf-compiler) and builds swift-protobuf's protoc-gen-swift
# once, in .build-protoc. The output is committed: builds and CI do not run this.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || apt-get install -y -q protobuf-compiler >/dev/null
swift package resolve >/dev/null
(cd .build/checkouts/swift-protobuf && swift build -c release --product protoc-gen-swift --scratch-path "$OLDPWD/.build-protoc" >/dev/null)
protoc --plugin=protoc-gen-swift=.build-protoc/release/protoc-gen-swift \
  --swift_opt=Visibility=Public --swift_out=Sources/CRI -I Protos runtime/v1/api.proto
mv Sources/CRI/runtime/v1/api.pb.swift Sources/CRI/api.pb.swift
rmdir -p Sources/CRI/runtime/v1 2>/dev/null || true
echo "wrote Sources/CRI/api.pb.swift"
