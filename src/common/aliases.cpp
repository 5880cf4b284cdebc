// SPDX-License-Identifier: ISC
// aliases(5): parsing and recursive expansion. See aliases.h.
#include "common/aliases.h"

#include "common/address.h"
#include "common/io.h"

#include <cerrno>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace postern {
namespace {

constexpr size_t max_file = 4 << 20; // 4 MiB: an aliases file is small
constexpr int max_depth = 32;

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool is_blank_or_comment(std::string_view line)
{
    std::string_view t = trim(line);
    return t.empty() || t.front() == '#';
}

// Reads a file for the alias code: its text and whether it is trusted.
struct FileText {
    bool found = false;
    bool trusted = false;
    std::string text;
};

Result<FileText> read_alias_file(const std::string& path)
{
    FileText f;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT)
            return f;
        return fail_errno(EX_CONFIG, "open", path);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) < 0)
        return fail_errno(EX_CONFIG, "fstat", path);
    if (!S_ISREG(st.st_mode))
        return fail(EX_CONFIG, path + ": not a regular file");
    std::string text;
    char buf[8192];
    for (;;) {
        Result<size_t> n = read_some(fd.get(), buf, sizeof buf, path);
        if (!n)
            return fail(EX_CONFIG, n.error().text);
        if (*n == 0)
            break;
        if (text.size() + *n > max_file)
            return fail(EX_CONFIG, path + ": file too large");
        text.append(buf, *n);
    }
    f.found = true;
    f.trusted = alias_file_trusted(st.st_uid, st.st_mode, ::geteuid());
    f.text = std::move(text);
    return f;
}

struct Expander {
    const Aliases& aliases;
    const Config& cfg;
    std::vector<Recipient> out;
    std::set<std::string> chain;    // names being expanded (loop detection)
    std::set<std::string> expanded; // names already expanded elsewhere

    void add(RcptKind kind, const std::string& address)
    {
        for (const auto& r : out)
            if (r.kind == kind && r.address == address)
                return;
        Recipient r;
        r.kind = kind;
        r.address = address;
        out.push_back(std::move(r));
    }

    Status name(const std::string& raw, int depth, const std::string& where);
    Status target(const std::string& t, bool trusted, int depth, const std::string& where);
    Status include(const std::string& path, bool trusted, int depth, const std::string& where);
};

Status Expander::name(const std::string& raw, int depth, const std::string& where)
{
    std::string n = to_lower(raw);
    if (depth > max_depth)
        return fail(EX_CONFIG, where + ": aliases nested too deep at '" + printable(n) + "'");
    if (chain.count(n)) {
        // An alias that reaches itself delivers to its own mailbox.
        add(RcptKind::Local, n);
        return {};
    }
    if (expanded.count(n))
        return {};
    const AliasEntry* e = aliases.find(n);
    if (!e) {
        if (n == "postmaster" || n == "mailer-daemon")
            return name("root", depth + 1, where);
        Status ok = check_address(n, "local recipient");
        if (!ok)
            return fail(EX_CONFIG, where + ": " + ok.error().text);
        add(RcptKind::Local, n);
        return {};
    }
    chain.insert(n);
    for (const auto& t : e->targets) {
        Status st = target(t, aliases.trusted(), depth + 1, e->where);
        if (!st)
            return st;
    }
    chain.erase(n);
    expanded.insert(n);
    return {};
}

Status Expander::target(const std::string& t, bool trusted, int depth, const std::string& where)
{
    if (t.empty())
        return {};
    if (t[0] == '|' || t[0] == '/') {
        const char* what = t[0] == '|' ? "command" : "file";
        if (!trusted)
            return fail(EX_CONFIG, where + ": " + what + " target '" + printable(t) +
                                       "' is not allowed from an untrusted file");
        if (t.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
            return fail(EX_CONFIG, where + ": control character in " + what + " target");
        if (t[0] == '|') {
            if (t.size() == 1)
                return fail(EX_CONFIG, where + ": empty command target");
            add(RcptKind::Command, t.substr(1));
        } else {
            add(RcptKind::File, t);
        }
        return {};
    }
    if (t.rfind(":include:", 0) == 0)
        return include(std::string(trim(std::string_view(t).substr(9))), trusted, depth, where);
    if (t[0] == '\\') {
        std::string user = to_lower(t.substr(1));
        Status ok = check_address(user, "local recipient");
        if (!ok || user.find('@') != std::string::npos)
            return fail(EX_CONFIG, where + ": bad target '" + printable(t) + "'");
        add(RcptKind::Local, user);
        return {};
    }
    Status ok = check_address(t, "alias target");
    if (!ok)
        return fail(EX_CONFIG, where + ": " + ok.error().text);
    if (t.find('@') != std::string::npos) {
        if (route_of(t, cfg) == Route::Relay) {
            add(RcptKind::Relay, t);
            return {};
        }
        return name(local_part(t), depth, where);
    }
    return name(t, depth, where);
}

Status Expander::include(const std::string& path, bool trusted, int depth, const std::string& where)
{
    if (path.empty() || path[0] != '/')
        return fail(EX_CONFIG, where + ": :include: needs an absolute path");
    if (depth > max_depth)
        return fail(EX_CONFIG, where + ": aliases nested too deep at " + path);
    Result<FileText> f = read_alias_file(path);
    if (!f)
        return fail(EX_CONFIG, where + ": " + f.error().text);
    if (!f->found)
        return fail(EX_CONFIG, where + ": :include: file " + path + " does not exist");
    bool inc_trusted = trusted && f->trusted;
    std::string_view text = f->text;
    int lineno = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++lineno;
        if (is_blank_or_comment(line))
            continue;
        std::string here = path + ":" + std::to_string(lineno);
        Result<std::vector<std::string>> ts = split_alias_targets(line, here);
        if (!ts)
            return ts.error();
        for (const auto& t : *ts) {
            Status st = target(t, inc_trusted, depth + 1, here);
            if (!st)
                return st;
        }
    }
    return {};
}

} // namespace

bool alias_file_trusted(uid_t owner, mode_t mode, uid_t euid)
{
    if (mode & (S_IWGRP | S_IWOTH))
        return false;
    return owner == 0 || (euid != 0 && owner == euid);
}

Result<std::vector<std::string>> split_alias_targets(std::string_view text,
                                                     const std::string& where)
{
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    auto flush = [&] {
        std::string t(trim(cur));
        if (!t.empty())
            out.push_back(std::move(t));
        cur.clear();
    };
    for (char c : text) {
        if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            flush();
        else
            cur += c;
    }
    if (quoted)
        return fail(EX_CONFIG, where + ": unbalanced quote");
    flush();
    return out;
}

Result<Aliases> Aliases::load(const std::string& path)
{
    Result<FileText> f = read_alias_file(path);
    if (!f)
        return f.error();
    if (!f->found)
        return Aliases();
    return parse(f->text, path, f->trusted);
}

Result<Aliases> Aliases::parse(std::string_view text, const std::string& name, bool trusted)
{
    Aliases a;
    a.trusted_ = trusted;
    // One entry is gathered across its continuation lines, then split.
    std::string entry_name, entry_text, entry_where;
    auto finish = [&]() -> Status {
        if (entry_name.empty())
            return {};
        Result<std::vector<std::string>> ts = split_alias_targets(entry_text, entry_where);
        if (!ts)
            return ts.error();
        if (ts->empty())
            return fail(EX_CONFIG, entry_where + ": no targets for '" + entry_name + "'");
        if (a.map_.count(entry_name))
            a.warnings_.push_back(entry_where + ": duplicate alias '" + entry_name + "' ignored");
        else
            a.map_.emplace(entry_name, AliasEntry{std::move(*ts), entry_where});
        entry_name.clear();
        entry_text.clear();
        return {};
    };

    int lineno = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++lineno;
        std::string where = name + ":" + std::to_string(lineno);
        if (line.find('\0') != std::string_view::npos)
            return fail(EX_CONFIG, where + ": NUL byte");
        if (is_blank_or_comment(line))
            continue;
        if (line.front() == ' ' || line.front() == '\t') {
            if (entry_name.empty())
                return fail(EX_CONFIG, where + ": continuation line without an alias");
            entry_text += ',';
            entry_text += line;
            continue;
        }
        Status st = finish();
        if (!st)
            return st.error();
        size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            return fail(EX_CONFIG, where + ": missing ':' after the alias name");
        std::string_view n = trim(line.substr(0, colon));
        if (n.size() >= 2 && n.front() == '"' && n.back() == '"')
            n = n.substr(1, n.size() - 2);
        if (n.empty())
            return fail(EX_CONFIG, where + ": empty alias name");
        for (unsigned char c : n)
            if (c <= ' ' || c == 0x7f || c == ',' || c == '"')
                return fail(EX_CONFIG, where + ": bad character in alias name '" +
                                           printable(std::string(n)) + "'");
        entry_name = to_lower(std::string(n));
        entry_text = std::string(line.substr(colon + 1));
        entry_where = where;
    }
    Status st = finish();
    if (!st)
        return st.error();
    return a;
}

const AliasEntry* Aliases::find(const std::string& name) const
{
    auto it = map_.find(to_lower(name));
    return it == map_.end() ? nullptr : &it->second;
}

Result<std::vector<Recipient>> expand_recipient(const std::string& rcpt, const Aliases& aliases,
                                                const Config& cfg)
{
    Expander x{aliases, cfg, {}, {}, {}};
    if (route_of(rcpt, cfg) == Route::Relay) {
        x.add(RcptKind::Relay, rcpt);
    } else {
        Status st = x.name(local_part(rcpt), 0, "recipient " + printable(rcpt));
        if (!st)
            return st.error();
    }
    if (x.out.empty())
        return fail(EX_DATAERR, "alias " + printable(rcpt) + " expands to no recipients");
    for (auto& r : x.out)
        if (r.address != rcpt)
            r.orig = rcpt;
    return x.out;
}

} // namespace postern
