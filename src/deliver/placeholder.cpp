// SPDX-License-Identifier: ISC
namespace postern { int placeholder_deliver = 0; }
