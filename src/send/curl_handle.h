// SPDX-License-Identifier: ISC
#pragma once
// RAII owners for libcurl handles: CurlEasy (curl_easy_cleanup), CurlMulti
// (curl_multi_cleanup) and CurlList (curl_slist_free_all). Move-only; a
// default-constructed or moved-from owner holds nothing. Allocation failure
// shows as a null handle, which callers turn into EX_OSERR.

#include <curl/curl.h>

#include <string>
#include <utility>
#include <vector>

namespace postern::send {

class CurlEasy {
  public:
    CurlEasy() : h_(curl_easy_init()) {}
    CurlEasy(CurlEasy&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    CurlEasy& operator=(CurlEasy&& o) noexcept
    {
        std::swap(h_, o.h_);
        return *this;
    }
    CurlEasy(const CurlEasy&) = delete;
    CurlEasy& operator=(const CurlEasy&) = delete;
    ~CurlEasy()
    {
        if (h_)
            curl_easy_cleanup(h_);
    }
    CURL* get() const { return h_; }

  private:
    CURL* h_;
};

class CurlMulti {
  public:
    CurlMulti() : h_(curl_multi_init()) {}
    CurlMulti(CurlMulti&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    CurlMulti& operator=(CurlMulti&& o) noexcept
    {
        std::swap(h_, o.h_);
        return *this;
    }
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;
    ~CurlMulti()
    {
        if (h_)
            curl_multi_cleanup(h_);
    }
    CURLM* get() const { return h_; }

  private:
    CURLM* h_;
};

class CurlList {
  public:
    CurlList() = default;
    CurlList(CurlList&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    CurlList& operator=(CurlList&& o) noexcept
    {
        std::swap(l_, o.l_);
        return *this;
    }
    CurlList(const CurlList&) = delete;
    CurlList& operator=(const CurlList&) = delete;
    ~CurlList() { curl_slist_free_all(l_); }

    // False when curl could not allocate the copy.
    bool append(const std::string& s)
    {
        curl_slist* n = curl_slist_append(l_, s.c_str());
        if (!n)
            return false;
        l_ = n;
        return true;
    }
    curl_slist* get() const { return l_; }

  private:
    curl_slist* l_ = nullptr;
};

} // namespace postern::send
