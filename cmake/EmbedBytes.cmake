# cmake -DIN=<file> -DOUT=<file.cc> -DNAME=<Name> -P EmbedBytes.cmake
# Writes OUT defining kubedl::kube::k<Name>[] (IN's bytes) and k<Name>Size.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR size "${digits} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}
  "// Generated from ${IN} by cmake/EmbedBytes.cmake.\n#include <cstddef>\n"
  "namespace kubedl::kube {\n"
  "extern const unsigned char k${NAME}[];\nextern const std::size_t k${NAME}Size;\n"
  "const unsigned char k${NAME}[] = {${bytes}};\n"
  "const std::size_t k${NAME}Size = ${size};\n}  // namespace kubedl::kube\n")
