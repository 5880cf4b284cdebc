// SPDX-License-Identifier: ISC
#include "submit/body.h"

#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postern::submit {

Status InputReader::fill()
{
    // Keep unread bytes (a CR waiting for its LF) at the front.
    if (pos_ > 0) {
        std::memmove(buf_, buf_ + pos_, len_ - pos_);
        len_ -= pos_;
        pos_ = 0;
    }
    for (;;) {
        ssize_t n = ::read(fd_, buf_ + len_, sizeof buf_ - len_);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(EX_IOERR, "read", "standard input");
        if (n == 0)
            eof_ = true;
        len_ += static_cast<size_t>(n);
        return {};
    }
}

Result<bool> InputReader::read_piece(std::string& out, size_t max, bool& eol)
{
    out.clear();
    eol = false;
    for (;;) {
        if (pos_ == len_) {
            if (eof_)
                return !out.empty();
            Status st = fill();
            if (!st)
                return st.error();
            continue;
        }
        while (pos_ < len_) {
            if (out.size() >= max)
                return true;
            char c = buf_[pos_];
            if (c == '\n') {
                ++pos_;
                eol = true;
                return true;
            }
            if (c == '\r') {
                if (pos_ + 1 == len_ && !eof_) {
                    Status st = fill(); // need the next byte to decide
                    if (!st)
                        return st.error();
                    continue;
                }
                if (pos_ + 1 < len_ && buf_[pos_ + 1] == '\n') {
                    pos_ += 2;
                    eol = true;
                    return true;
                }
                c = ' '; // a bare CR (Postfix cleanup_replace_stray_cr_lf)
            }
            out += c;
            ++pos_;
        }
    }
}

Result<bool> StdinSource::next(std::string& piece, bool& eol)
{
    if (done_)
        return false;
    auto r = in_.read_piece(piece, 1 << 16, eol);
    if (!r)
        return r;
    if (!*r) {
        done_ = true;
        return false;
    }
    if (dot_ends_ && line_start_ && eol && piece == ".") {
        done_ = true;
        return false;
    }
    line_start_ = eol;
    return true;
}

Result<bool> SmtpDataSource::next(std::string& piece, bool& eol)
{
    if (done_)
        return false;
    auto r = in_.read_piece(piece, 1 << 16, eol);
    if (!r)
        return r;
    if (!*r)
        return fail(EX_IOERR, "input ended during DATA (message discarded)");
    if (line_start_ && eol && piece == ".") {
        done_ = true;
        return false;
    }
    if (line_start_ && !piece.empty() && piece[0] == '.')
        piece.erase(0, 1); // RFC 5321 4.5.2 transparency
    line_start_ = eol;
    return true;
}

Status SmtpDataSource::drain()
{
    std::string piece;
    bool eol = false;
    for (;;) {
        auto r = next(piece, eol);
        if (!r)
            return r.error();
        if (!*r)
            return {};
    }
}

Status BodyWriter::put(std::string_view piece, bool eol)
{
    for (char ch : piece) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (c >= 0x80)
            stats_.eight_bit = true;
        else if (c == 0)
            stats_.nul = true;
    }
    if (stats_.nul && opaque_)
        return fail(EX_DATAERR, "NUL byte in the body of a MIME multipart or encoded message "
                                "(refused: it cannot be re-encoded and no relay accepts it)");
    if (col_ + piece.size() > 998)
        stats_.long_line = true;
    if (opaque_) {
        // Break at 998 octets with CRLF SPACE, as Postfix does.
        while (col_ + piece.size() > 998) {
            size_t take = 998 - col_;
            Status st = out_.write(piece.substr(0, take));
            if (!st)
                return st;
            st = out_.write("\r\n ");
            if (!st)
                return st;
            piece.remove_prefix(take);
            col_ = 1;
        }
    }
    Status st = out_.write(piece);
    if (!st)
        return st;
    col_ += piece.size();
    if (eol) {
        col_ = 0;
        return out_.write("\r\n");
    }
    return {};
}

Status BodyWriter::finish()
{
    if (col_ == 0)
        return {};
    col_ = 0;
    return out_.write("\r\n");
}

void QpEncoder::emit(std::string_view token)
{
    // 76 octets per line at most, the soft break's '=' included.
    if (col_ + token.size() > 75) {
        buf_ += "=\r\n";
        col_ = 0;
    }
    buf_.append(token);
    col_ += token.size();
}

Status QpEncoder::feed(std::string_view data)
{
    static const char* hex = "0123456789ABCDEF";
    for (char ch : data) {
        unsigned char c = static_cast<unsigned char>(ch);
        if (skip_lf_) {
            skip_lf_ = false;
            if (c == '\n')
                continue;
        }
        if (c == '\r') {
            // Canonical input: every CR starts a CRLF line end. White
            // space before a line end must be encoded (RFC 2045 rule 3).
            if (pending_ws_ >= 0) {
                char enc[4] = {'=', hex[pending_ws_ >> 4], hex[pending_ws_ & 15], 0};
                emit(enc);
                pending_ws_ = -1;
            }
            buf_ += "\r\n";
            col_ = 0;
            skip_lf_ = true;
        } else {
            if (pending_ws_ >= 0) {
                char ws[2] = {static_cast<char>(pending_ws_), 0};
                emit(ws);
                pending_ws_ = -1;
            }
            if (c == ' ' || c == '\t') {
                pending_ws_ = c;
            } else if (c >= 33 && c <= 126 && c != '=') {
                char lit[2] = {static_cast<char>(c), 0};
                emit(lit);
            } else {
                char enc[4] = {'=', hex[c >> 4], hex[c & 15], 0};
                emit(enc);
            }
        }
        if (buf_.size() >= (1 << 16)) {
            Status st = out_.write(buf_);
            buf_.clear();
            if (!st)
                return st;
        }
    }
    return {};
}

Status QpEncoder::finish()
{
    if (pending_ws_ >= 0) {
        static const char* hex = "0123456789ABCDEF";
        char enc[4] = {'=', hex[pending_ws_ >> 4], hex[pending_ws_ & 15], 0};
        emit(enc);
        pending_ws_ = -1;
    }
    if (col_ != 0) {
        buf_ += "\r\n";
        col_ = 0;
    }
    Status st = out_.write(buf_);
    buf_.clear();
    return st;
}

} // namespace postern::submit
