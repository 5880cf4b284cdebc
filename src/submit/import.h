// SPDX-License-Identifier: ISC
#pragma once
// postern --import FILE [--format F]: turns another relay-only MTA's
// configuration into the equivalent postern.conf, printed on stdout.
//
// Formats: ssmtp (ssmtp.conf, plus revaliases beside it), msmtp (an
// msmtprc: the account "default", else the first one, with "defaults" and
// inheritance applied), dma (dma.conf, plus auth.conf beside it) and
// nullmailer (the remotes file, plus me, defaulthost, defaultdomain,
// adminaddr and allmailfrom beside it). Without --format the format is
// guessed from the file name, then from its content.
//
// Policy: a password is never printed. The output names password_file =
// /etc/postern.secret and says what to put there; msmtp's passwordeval
// becomes password_command when it is a plain command (no shell syntax).
// Whatever has no postern equivalent is listed in "; not carried over:"
// lines, with the reason or what to do instead. The output is loaded
// with load_config() before it is printed, so what is printed loads.

#include "common/result.h"

#include <string>
#include <utility>
#include <vector>

namespace postern::submit {

// The configuration being built: "section.key" = value in the order of
// known_config_keys(), with comments to print above a key, notes for the
// top of the file and the list of what was not carried over.
class ImportedConfig {
  public:
    // Sets a key (replacing an earlier value). A key unknown to the loader
    // is a bug (panic).
    void set(const std::string& key, const std::string& value);
    bool has(const std::string& key) const;
    std::string get(const std::string& key) const;
    void erase(const std::string& key);
    // A comment printed above key, one or more lines without the "; ".
    void comment(const std::string& key, const std::string& text);
    void note(const std::string& text) { notes_.push_back(text); }
    void not_carried(const std::string& what) { dropped_.push_back(what); }

    const std::vector<std::string>& dropped() const { return dropped_; }
    // The postern.conf text; `source` and `format` name the input.
    std::string render(const std::string& source, const std::string& format) const;

  private:
    std::vector<std::pair<std::string, std::string>> values_;
    std::vector<std::pair<std::string, std::string>> comments_;
    std::vector<std::string> notes_;
    std::vector<std::string> dropped_;
};

// Reads a file beside the imported one; "" when it does not exist.
using SiblingReader = std::string (*)(const std::string& path);

// "ssmtp", "msmtp", "dma", "nullmailer", or "" when neither the name nor
// the content says.
std::string guess_format(const std::string& path, const std::string& text);

// Converts `text` (the content of `path`) in `format`. Files beside path
// are read through `sibling` (tests pass their own). Never fails: what
// cannot be mapped is listed in dropped().
ImportedConfig convert(const std::string& format, const std::string& path, const std::string& text,
                       SiblingReader sibling);

// The whole command: reads path, guesses the format when `format` is
// empty, converts, checks that the result loads and prints it.
// Errors: EX_NOINPUT (cannot read path), EX_USAGE (format unknown),
// EX_SOFTWARE (the result does not load: a bug, the text says why).
Result<int> run_import(const std::string& path, const std::string& format);

} // namespace postern::submit
