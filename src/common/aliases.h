// SPDX-License-Identifier: ISC
#pragma once
// aliases(5) and recipient expansion (SPEC "Routing").
//
// Format: "name: target, target", continuation lines start with white
// space, '#' starts a comment line, blank lines are ignored, targets may be
// quoted ("|cmd with spaces"). Targets: local names (expanded recursively),
// remote addresses, "/file", "|command", ":include:/file" (the same target
// syntax without names, one or more per line), and "\user" (a mailbox,
// never expanded further). Names are case-insensitive; a name listed twice
// keeps its first entry (Postfix) and the duplicate is reported.
//
// Trust: /file and |command targets are honoured only from a trusted file,
// one owned by root (or by the running user when that is not root, so
// unprivileged tests work) and writable by nobody else; an :include:
// file must be trusted too. Elsewhere they are EX_CONFIG errors naming
// file:line, raised when the target is expanded.
//
// Loops: a name met again inside its own expansion is delivered to its
// mailbox (so "alice: alice, alice@example.org" keeps a local copy), a
// name already expanded elsewhere is not expanded twice, and nesting
// deeper than 32 levels is an error.

#include "common/config.h"
#include "common/envelope.h"
#include "common/result.h"

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace postern {

struct AliasEntry {
    std::vector<std::string> targets; // raw targets, unquoted
    std::string where;                // "file:line" of the entry
};

class Aliases {
  public:
    // Loads path. A missing file is an empty table (not an error).
    // Errors: EX_CONFIG "file:line: what is wrong", EX_CONFIG "file: why"
    // when it exists but cannot be read.
    static Result<Aliases> load(const std::string& path);
    // Parses text as if read from a file called name. Errors: as load().
    static Result<Aliases> parse(std::string_view text, const std::string& name, bool trusted);

    const AliasEntry* find(const std::string& name) const;
    bool trusted() const { return trusted_; }
    size_t size() const { return map_.size(); }
    // Duplicate names seen while loading ("file:line: duplicate alias x").
    const std::vector<std::string>& warnings() const { return warnings_; }

  private:
    std::map<std::string, AliasEntry> map_;
    bool trusted_ = false; // owned by root and not writable by others
    std::vector<std::string> warnings_;
};

// Splits the target list of one entry (or one :include: line) at commas
// outside quotes, trims white space and removes the quotes.
// Errors: EX_CONFIG "where: unbalanced quote".
Result<std::vector<std::string>> split_alias_targets(std::string_view text,
                                                     const std::string& where);

// True when a file with this owner and mode may hold /file and |command
// targets for a process with effective uid euid.
bool alias_file_trusted(uid_t owner, mode_t mode, uid_t euid);

// Expands one submitted recipient into final recipients: relay addresses,
// local users (Local, address = lower-case user name), /file (File) and
// |command targets (Command, address without the '|'). postmaster and
// mailer-daemon resolve to root when not aliased. orig is set to rcpt for
// every recipient whose address differs from it.
// Errors: EX_CONFIG for a broken or untrusted :include: file, a file or
// command target from an untrusted file, a malformed target, or nesting
// too deep; EX_DATAERR when nothing is left (an empty :include:).
Result<std::vector<Recipient>> expand_recipient(const std::string& rcpt, const Aliases& aliases,
                                                const Config& cfg);

} // namespace postern
