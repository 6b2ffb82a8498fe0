"""``process_uploaded_files`` as the real validator has it (paths in, file records out)."""

from __future__ import annotations


def process_uploaded_files(input_files: dict[str, list[str]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for description, paths in input_files.items():
        for path in paths:
            with open(path, "rb") as fh:
                out.append({"name": path, "description": description, "file_content": fh.read()})
    return out
