// SPDX-License-Identifier: ISC
namespace postern { int placeholder_submit = 0; }
