// SPDX-License-Identifier: ISC
#include "submit/encoded_word.h"

#include "common/text.h"

#include <algorithm>

namespace postern::submit {
namespace {

// RFC 2047 section 2: at most 75 octets per encoded-word, at most 76 per
// line that holds one. "=?UTF-8?B?" and "?=" take 12, so a word carries
// at most 45 octets of text (60 base64 characters).
constexpr size_t line_limit = 76;
constexpr size_t word_overhead = 12;
constexpr size_t max_word_text = 45;
// A word needs room for at least one character (4 octets of UTF-8).
constexpr size_t min_word = word_overhead + 8;

std::string base64(std::string_view in)
{
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                     (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += t[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size())
            v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

void put_utf8(std::string& out, unsigned cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// Length of the valid UTF-8 sequence at s[i] (1 for ASCII), 0 if none.
size_t utf8_length(std::string_view s, size_t i)
{
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (i + n > s.size() || !valid_utf8(s.substr(i, n)))
        return 0;
    return n;
}

// The number of octets of the valid UTF-8 text s, from i, that fit in
// max octets without cutting a character.
size_t whole_chars(std::string_view s, size_t i, size_t max)
{
    size_t n = 0;
    while (i + n < s.size()) {
        size_t len = utf8_length(s, i + n);
        if (len == 0)
            len = 1; // cannot happen: s came from header_text_utf8()
        if (n + len > max)
            break;
        n += len;
    }
    return n;
}

std::string word(std::string_view text) { return "=?UTF-8?B?" + base64(text) + "?="; }

} // namespace

bool needs_encoding(unsigned char c) { return c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f; }

std::string header_text_utf8(std::string_view s)
{
    std::string out;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = utf8_length(s, i);
        if (n >= 2) {
            // C1 controls (U+0080..U+009F) are C2 80..C2 9F.
            if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0)
                put_utf8(out, 0xfffd);
            else
                out.append(s.substr(i, n));
            i += n;
            continue;
        }
        // ASCII, or a byte outside valid UTF-8: its ISO-8859-1 character.
        if (c == '\t')
            out += '\t';
        else if (c < 0x20)
            put_utf8(out, 0x2400 + c); // control pictures: NUL is U+2400
        else if (c == 0x7f)
            put_utf8(out, 0x2421);
        else if (c < 0x80)
            out += static_cast<char>(c);
        else if (c < 0xa0)
            put_utf8(out, 0xfffd);
        else
            put_utf8(out, c);
        ++i;
    }
    return out;
}

std::string encoded_words(std::string_view bytes)
{
    std::string text = header_text_utf8(bytes);
    std::string out;
    for (size_t i = 0; i < text.size();) {
        size_t n = whole_chars(text, i, max_word_text);
        if (!out.empty())
            out += ' ';
        out += word(std::string_view(text).substr(i, n));
        i += n;
    }
    return out;
}

FoldedField::FoldedField(std::string start) : out_(std::move(start)), col_(out_.size()) {}

void FoldedField::append(std::string_view raw)
{
    size_t eol = raw.find("\r\n");
    size_t first = eol == std::string_view::npos ? raw.size() : eol;
    if (!raw.empty() && (raw[0] == ' ' || raw[0] == '\t') && col_ > 1 &&
        col_ + first > line_limit) {
        out_ += "\r\n";
        col_ = 0;
    }
    out_.append(raw);
    size_t last = raw.rfind("\r\n");
    col_ = last == std::string_view::npos ? col_ + raw.size() : raw.size() - last - 2;
}

void FoldedField::append_words(std::string_view bytes)
{
    std::string text = header_text_utf8(bytes);
    bool first = true;
    for (size_t i = 0; i < text.size();) {
        if (!first) {
            // Encoded-words are separated by white space, which readers
            // drop between two of them: a fold costs nothing.
            if (col_ + 1 + min_word > line_limit) {
                out_ += "\r\n ";
                col_ = 1;
            } else {
                out_ += ' ';
                ++col_;
            }
        } else if (col_ + min_word > line_limit) {
            // Fold before the white space the caller put here, or add a
            // folded space after the colon or a comment's parenthesis.
            char prev = out_.empty() ? ':' : out_.back();
            if (prev == ' ' || prev == '\t') {
                out_.insert(out_.size() - 1, "\r\n");
                col_ = 1;
            } else {
                out_ += "\r\n ";
                col_ = 1;
            }
        }
        size_t room = line_limit - col_ - word_overhead;
        size_t n = whole_chars(text, i, std::min(max_word_text, room / 4 * 3));
        out_ += word(std::string_view(text).substr(i, n));
        col_ += word_overhead + (n + 2) / 3 * 4;
        i += n;
        first = false;
    }
}

std::string FoldedField::folded() const
{
    std::string out;
    std::string_view all = out_;
    for (size_t pos = 0;;) {
        size_t eol = all.find("\r\n", pos);
        std::string_view line = all.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
        while (line.size() > line_limit) {
            // A cut must leave text before it: no line of white space only.
            size_t text = line.find_first_not_of(" \t");
            size_t cut = line.find_last_of(" \t", line_limit);
            if (cut == std::string_view::npos || cut <= text)
                cut = line.find_first_of(" \t", std::max(line_limit, text));
            if (cut == std::string_view::npos)
                break;
            out.append(line.substr(0, cut));
            out += "\r\n";
            line.remove_prefix(cut);
        }
        out.append(line);
        if (eol == std::string_view::npos)
            break;
        out += "\r\n";
        pos = eol + 2;
    }
    return out;
}

} // namespace postern::submit
