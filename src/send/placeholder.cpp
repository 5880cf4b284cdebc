// SPDX-License-Identifier: ISC
namespace postern { int placeholder_send = 0; }
