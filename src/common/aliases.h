// SPDX-License-Identifier: ISC
#pragma once
// aliases(5) and recipient expansion (SPEC "Routing").
//
// Format: "name: target, target", continuation lines start with white
// space, '#' comments, quoted targets, :include:/file, /file, |command,
// remote addresses, local names (expanded recursively, loop-safe, "\user"
// stops expansion). Names are case-insensitive. File and command targets
// are honoured only from a trusted file (the root-owned aliases file the
// config names); elsewhere they are errors.

#include "common/config.h"
#include "common/envelope.h"
#include "common/result.h"

#include <map>
#include <string>
#include <vector>

namespace postern {

struct AliasEntry {
    std::vector<std::string> targets; // raw targets, unquoted
    std::string where;                // "file:line" of the entry
};

class Aliases {
  public:
    // Loads path. A missing file is an empty table (not an error).
    // Errors: EX_CONFIG "file:line: what is wrong".
    static Result<Aliases> load(const std::string& path);

    const AliasEntry* find(const std::string& name) const;
    bool trusted() const { return trusted_; }
    size_t size() const { return map_.size(); }

  private:
    std::map<std::string, AliasEntry> map_;
    bool trusted_ = false; // owned by root and not writable by others
};

// Expands one submitted recipient into final recipients: relay addresses,
// local users (Local, address = user name), /file and |command targets.
// postmaster, mailer-daemon and root resolve to root when not aliased.
// Errors: EX_CONFIG for a broken :include: file, EX_DATAERR for a loop
// that yields nothing.
Result<std::vector<Recipient>> expand_recipient(const std::string& rcpt, const Aliases& aliases,
                                                const Config& cfg);

} // namespace postern
