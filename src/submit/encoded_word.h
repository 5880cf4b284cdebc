// SPDX-License-Identifier: ISC
#pragma once
// RFC 2047 encoded-words: how header text that is not 7-bit goes on the
// wire (libcurl 7.88 cannot declare SMTPUTF8, so the spooled header
// section is 7-bit; SPEC "Submission").
//
// The text of an encoded-word is always UTF-8, B-encoded ("=?UTF-8?B?
// ...?="): B is safe in every place RFC 2047 allows a word (phrase,
// comment, unstructured text), where Q has a different alphabet each.
// Input bytes that form valid UTF-8 are kept; every other byte is read
// as ISO-8859-1 (each byte is a Latin-1 character: cron mails Latin-1
// file names) and written as that character's UTF-8. Control characters
// are made harmless and visible: C0 controls and DEL become the Unicode
// control pictures (U+2400 + byte, DEL U+2421: NUL shows as U+2400, ESC
// as U+241B), C1 controls (U+0080 to U+009F) become U+FFFD. TAB stays.
//
// Each encoded-word holds whole characters and is at most 75 octets;
// FoldedField keeps a line that holds encoded-words within 76 octets
// (RFC 2047 section 2) by folding before white space.
// No failure modes.

#include <string>
#include <string_view>

namespace postern::submit {

// True for a byte that cannot stand for itself in a 7-bit header value:
// 8-bit bytes and control characters other than TAB (CR and LF included).
bool needs_encoding(unsigned char c);

// The bytes as the UTF-8 text an encoded-word carries (see above).
std::string header_text_utf8(std::string_view bytes);

// Encoded-words for the bytes, separated by single spaces, unfolded (for
// a phrase whose column is not known yet; lines stay within 998 octets
// through format_headers()).
std::string encoded_words(std::string_view bytes);

// A header field built piece by piece, folded as it grows.
class FoldedField {
  public:
    // start: "Name:" (the column counts from it).
    explicit FoldedField(std::string start);
    // Appends raw 7-bit text (which may hold CRLF folds). When it starts
    // with white space and would carry the line past 76 octets, the line
    // is folded before it.
    void append(std::string_view raw);
    // Appends the bytes as encoded-words; the caller has put white space
    // (or the colon) before them. Folds where a word would not fit.
    void append_words(std::string_view bytes);
    // The field so far, as appended.
    const std::string& text() const { return out_; }
    // The field with every line over 76 octets folded at white space
    // (the last before octet 76, else the first after it): pieces of a
    // structured field come in too small to fold as they arrive.
    // Unfolding gives back text().
    std::string folded() const;

  private:
    std::string out_;
    size_t col_ = 0; // octets on the current line
};

} // namespace postern::submit
