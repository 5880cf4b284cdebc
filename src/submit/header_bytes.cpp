// SPDX-License-Identifier: ISC
#include "submit/header_bytes.h"

#include "common/address.h"
#include "submit/address_list.h"
#include "submit/encoded_word.h"

namespace postern::submit {
namespace {

enum class Kind { Unstructured, Address, Structured };

// The fields RFC 5322, 2045, 2183 and common practice give a structure;
// every other field is unstructured text (RFC 5322 3.6.8).
constexpr std::string_view address_fields =
    " from sender reply-to to cc bcc resent-from resent-sender resent-to resent-cc resent-bcc"
    " return-path mail-followup-to mail-reply-to errors-to disposition-notification-to ";
constexpr std::string_view structured_fields =
    " date resent-date message-id resent-message-id in-reply-to references received"
    " mime-version content-type content-transfer-encoding content-id content-disposition ";

Kind kind_of(const std::string& name)
{
    std::string key = " " + to_lower(name) + " ";
    if (address_fields.find(key) != std::string_view::npos)
        return Kind::Address;
    if (structured_fields.find(key) != std::string_view::npos)
        return Kind::Structured;
    return Kind::Unstructured;
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_fws(char c) { return is_wsp(c) || c == '\r' || c == '\n'; }
bool is_special(char c)
{
    return c == '<' || c == '>' || c == ',' || c == ':' || c == ';' || c == '@';
}

// A CR or LF that is not part of a fold (CRLF before white space) cannot
// reach the wire as it is: it becomes a space, as a bare CR in the body
// does (docs/DESIGN.md "Canonical message form").
std::string fix_line_ends(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\r' && i + 2 < v.size() && v[i + 1] == '\n' && is_wsp(v[i + 2])) {
            out += "\r\n";
            ++i;
        } else if (v[i] == '\r' || v[i] == '\n') {
            out += ' ';
        } else {
            out += v[i];
        }
    }
    return out;
}

// True when v (folds aside) holds a byte that cannot stand for itself.
bool dirty(std::string_view v)
{
    for (unsigned char c : v)
        if (c != '\r' && c != '\n' && needs_encoding(c))
            return true;
    return false;
}

std::string unfold(std::string_view v)
{
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n')
            ++i;
        else
            out += v[i];
    }
    return out;
}

// Unstructured text: ASCII words as they are, each run of words with
// bytes to encode as encoded-words. The white space inside a run goes
// into the encoded text, since readers drop white space between two
// encoded-words.
void encode_unstructured(FoldedField& f, std::string_view value)
{
    std::string u = unfold(value);
    std::string_view v = u;
    auto word_end = [&](size_t b) {
        size_t e = v.find_first_of(" \t", b);
        return e == std::string_view::npos ? v.size() : e;
    };
    size_t i = 0;
    while (i < v.size()) {
        size_t b = v.find_first_not_of(" \t", i);
        if (b == std::string_view::npos) {
            f.append(v.substr(i));
            break;
        }
        size_t e = word_end(b);
        if (!dirty(v.substr(b, e - b))) {
            f.append(v.substr(i, e - i));
            i = e;
            continue;
        }
        for (;;) {
            size_t nb = v.find_first_not_of(" \t", e);
            if (nb == std::string_view::npos)
                break;
            size_t ne = word_end(nb);
            if (!dirty(v.substr(nb, ne - nb)))
                break;
            e = ne;
        }
        f.append(v.substr(i, b - i));
        f.append_words(v.substr(b, e - b));
        i = e;
    }
}

// A comment's or quoted string's text: quoted pairs resolved, folds
// removed.
std::string comment_text(std::string_view v)
{
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size())
            ++i;
        else if (v[i] == '\r' || v[i] == '\n')
            continue;
        out += v[i];
    }
    return out;
}

// A display name's text: quoted strings unquoted, white space (folds
// included) collapsed to one space.
std::string phrase_text(std::string_view v)
{
    std::string out;
    bool space = false;
    for (size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        if (is_fws(c)) {
            space = true;
            continue;
        }
        if (space && !out.empty())
            out += ' ';
        space = false;
        if (c != '"') {
            out += c;
            continue;
        }
        // An unclosed quote runs to the end, as before.
        size_t end = skip_quoted(v, i);
        size_t stop = end == std::string_view::npos ? v.size() : end - 1;
        out += comment_text(v.substr(i + 1, stop - i - 1));
        i = end == std::string_view::npos ? v.size() : end - 1;
    }
    return out;
}

// An address field: phrases and comments encoded, everything else kept.
// False when it cannot be done (unparsable, or an 8-bit addr-spec).
bool encode_address(FoldedField& f, std::string_view v)
{
    auto list = parse_address_list(v);
    if (!list)
        return false;
    for (const auto& m : *list)
        if (dirty(m.addr))
            return false;
    // With every addr-spec clean, dirty text outside comments can only
    // be a display name, a group name or junk after an angle address:
    // all of them phrases.
    size_t i = 0;
    while (i < v.size()) {
        char c = v[i];
        if (c == '(') {
            size_t e = skip_comment(v, i);
            std::string_view inner =
                e == std::string_view::npos ? v.substr(i + 1) : v.substr(i + 1, e - i - 2);
            if (e == std::string_view::npos)
                e = v.size(); // cannot happen: the list parsed
            if (dirty(inner)) {
                f.append("(");
                f.append_words(comment_text(inner));
                f.append(")");
            } else {
                f.append(v.substr(i, e - i));
            }
            i = e;
            continue;
        }
        if (is_special(c)) {
            f.append(v.substr(i, 1));
            ++i;
            continue;
        }
        size_t j = i;
        while (j < v.size() && v[j] != '(' && !is_special(v[j])) {
            size_t q = v[j] == '"' ? skip_quoted(v, j) : j + 1;
            j = q == std::string_view::npos ? v.size() : q;
        }
        std::string_view run = v.substr(i, j - i);
        i = j;
        if (!dirty(run)) {
            f.append(run);
            continue;
        }
        // RFC 2047 5 (3): an encoded-word in a phrase is separated by
        // white space from a neighbouring word or special.
        size_t b = 0, e = run.size();
        while (b < e && is_fws(run[b]))
            ++b;
        while (e > b && is_fws(run[e - 1]))
            --e;
        f.append(run.substr(0, b));
        if (!is_wsp(f.text().back()))
            f.append(" ");
        f.append_words(phrase_text(run.substr(b, e - b)));
        if (e == run.size() && j < v.size())
            f.append(" ");
        else
            f.append(run.substr(e));
    }
    return true;
}

} // namespace

void encode_header_bytes(std::vector<Header>& headers)
{
    for (auto& h : headers) {
        std::string value = fix_line_ends(h.value());
        if (!dirty(value)) {
            if (value != h.value())
                h.raw = h.name + ":" + value;
            continue;
        }
        Kind kind = kind_of(h.name);
        if (kind == Kind::Address) {
            FoldedField f(h.name + ":");
            if (encode_address(f, value)) {
                h.raw = f.folded();
                continue;
            }
        }
        if (kind != Kind::Unstructured)
            h.name = std::string(renamed_prefix) + h.name;
        FoldedField f(h.name + ":");
        encode_unstructured(f, value);
        h.raw = f.folded();
    }
}

} // namespace postern::submit
