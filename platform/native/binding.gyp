{
  "targets": [
    {
      "target_name": "gleand_native",
      "sources": ["gleand_native.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
