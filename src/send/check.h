// SPDX-License-Identifier: ISC
#pragma once
// postern-send --check [--send ADDR]: validates the configuration (errors
// name file:line), resolves the secret, connects to every relay host and
// reports TLS version, certificate subject and issuer, the verification
// result, the AUTH mechanisms offered and whether the login succeeded;
// with --send, sends a test message synchronously. Every failure line says
// what to fix. Output goes to stdout; the secret is never printed.
// Exit: 0 all good; EX_CONFIG (78) config or secret; EX_TEMPFAIL (75)
// relay unreachable; EX_NOPERM (77) authentication; EX_UNAVAILABLE (69)
// TLS refused or the test message was rejected.

#include "common/config.h"
#include "common/result.h"
#include "send/runner.h"

namespace postern::send {

Result<int> run_check(const Config& cfg, const Options& opt);

} // namespace postern::send
