#!/bin/sh
# meson install script: links and (optionally) ownership. Filled in by the
# install work (issue 4).
exit 0
