// SPDX-License-Identifier: ISC
#include "deliver/format.h"

namespace postern::deliver {

std::string from_line(std::string_view sender, std::time_t when)
{
    // The envelope sender is one word on the From_ line: readers such as
    // mutt match "^From \S+ +<day>", so white space would merge messages.
    std::string s = sender.empty() ? std::string("MAILER-DAEMON") : std::string(sender);
    for (char& c : s)
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            c = '-';
    struct tm tm {};
    ::localtime_r(&when, &tm);
    char date[64];
    // asctime() form, always 24 characters; strftime in the "C" locale
    // (postern never calls setlocale) gives English names.
    size_t n = ::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    return "From " + s + " " + std::string(date, n) + "\n";
}

std::string trace_headers(std::string_view sender, std::string_view delivered_to,
                          bool with_return_path)
{
    std::string h;
    if (with_return_path) {
        h += "Return-Path: <";
        h += sender;
        h += ">\n";
    }
    h += "Delivered-To: ";
    h += delivered_to;
    h += "\n";
    return h;
}

bool needs_from_quote(std::string_view line)
{
    size_t i = 0;
    while (i < line.size() && line[i] == '>')
        ++i;
    return line.substr(i, 5) == "From ";
}

void LineConverter::emit(std::string_view line, bool newline, std::string& out)
{
    if (newline && !line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (mboxrd_ && needs_from_quote(line))
        out += '>';
    out += line;
    if (newline)
        out += '\n';
}

void LineConverter::add(std::string_view data, std::string& out)
{
    while (!data.empty()) {
        size_t nl = data.find('\n');
        if (nl == std::string_view::npos) {
            partial_ += data;
            return;
        }
        if (partial_.empty()) {
            emit(data.substr(0, nl), true, out);
        } else {
            partial_ += data.substr(0, nl);
            emit(partial_, true, out);
            partial_.clear();
        }
        data.remove_prefix(nl + 1);
    }
}

void LineConverter::finish(std::string& out)
{
    // A last line without a newline gets one (qmail mbox(5): "If the last
    // line of the message was a partial line, it writes two newlines").
    if (!partial_.empty()) {
        emit(partial_, false, out);
        partial_.clear();
        out += '\n';
    }
    if (mboxrd_)
        out += '\n';
}

} // namespace postern::deliver
