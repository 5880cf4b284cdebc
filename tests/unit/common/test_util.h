// SPDX-License-Identifier: ISC
#pragma once
// TempDir: a real temporary directory for tests, removed on destruction
// (ninja's ScopedTempDir). Filesystem semantics are what is under test.

#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace postern::test {

class TempDir {
  public:
    TempDir()
    {
        char tmpl[] = "/tmp/postern-test-XXXXXX";
        const char* d = ::mkdtemp(tmpl);
        path_ = d ? d : "";
    }
    ~TempDir()
    {
        if (!path_.empty())
            std::system(("rm -rf '" + path_ + "'").c_str());
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    std::string write(const std::string& name, const std::string& content) const
    {
        std::ofstream(file(name), std::ios::binary) << content;
        return file(name);
    }

  private:
    std::string path_;
};

} // namespace postern::test
