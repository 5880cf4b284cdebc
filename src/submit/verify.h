// SPDX-License-Identifier: ISC
#pragma once
// sendmail -bv (where would each recipient go) and -bi / newaliases
// (check the aliases file). Both only read; neither touches the spool.
//
// -bv prints one line per final recipient:
//   root: local (mailbox /var/mail/root)
//   root -> admin@example.com: relay (smtp.example.com:587)
//   x@example.com: relay (no relay configured)
//   root -> /var/log/mail.txt: file
//   root -> |/usr/bin/prog: command

#include "common/config.h"
#include "common/result.h"

#include <string>
#include <vector>

namespace postern::submit {

// The -bv report for rcpts. Errors: EX_USAGE without recipients, the
// check_address() error (EX_DATAERR, EX_NOUSER) for a bad address,
// EX_CONFIG for a broken aliases file.
Result<std::string> verify_report(const Config& cfg, const std::vector<std::string>& rcpts);

// "ALIASESFILE: N aliases". Errors: EX_CONFIG "file:line: ...".
Result<std::string> aliases_report(const Config& cfg);

} // namespace postern::submit
