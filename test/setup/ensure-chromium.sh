#!/usr/bin/env bash
# Debian's chromium brings SwiftShader, the software Vulkan driver that gives the WebGPU tests a
# real adapter on machines without a GPU (and the browser for end-to-end tests). Install it when
# missing and we can; otherwise say exactly how, and the WebGPU tests skip with that reason.
set -u
if [ -f /usr/lib/chromium/vk_swiftshader_icd.json ] && command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "installing Debian's chromium (SwiftShader WebGPU for the tests)..."
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/chromium-install.log 2>&1; then
    exit 0
  fi
  echo "chromium install failed (see /tmp/chromium-install.log); WebGPU tests will be skipped."
  exit 0
fi
echo "Debian's chromium is missing: WebGPU tests will be skipped. To run them: sudo apt-get install -y chromium"
exit 0
