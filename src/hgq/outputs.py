"""Output folders that never lose a user's file.

hgq writes only into a folder that it creates, that is empty, or that holds only what hgq wrote there before; the
names it wrote are kept in the folder's record (``.hgq-outputs.json``). Any other folder is refused with its name,
unless the caller passes ``overwrite=True``; even then hgq writes beside the other files, never over them, and it
removes only files of its record.
"""

import json
import os

RECORD = ".hgq-outputs.json"
WHOLE = "*"  # a record entry: every file in the folder is a tool's output (an hls4ml project)


class OutputFolderError(ValueError):
    """An output folder or file that hgq refuses to write into, because it holds what hgq did not write."""


class OutputFolder:
    """A folder ``who`` writes into: created if missing, refused if it holds files that hgq did not write (unless
    ``overwrite``).

    Args:
        path: the folder.
        who: the function or command writing, named in errors and in the record.
        overwrite: write beside files that hgq did not write (they are kept; a name of theirs is never written).
    """

    def __init__(self, path, who, overwrite=False):
        self.path, self.who = os.fspath(path), who
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise OutputFolderError(f"{who}: the output folder {self.path} is a file; choose a folder")
        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as error:
            raise OutputFolderError(f"{who}: cannot create the output folder {self.path}: {error}") from None
        self.record = self._read_record()
        foreign = self.foreign()
        if foreign and not overwrite:
            raise OutputFolderError(
                f"{who}: the output folder {self.path} holds files that hgq did not write "
                f"({_listing(foreign)}); choose a new or empty folder, or overwrite (overwrite=True, --overwrite: "
                "hgq then writes beside them and removes only its own files)")

    def _read_record(self):
        path = os.path.join(self.path, RECORD)
        if not os.path.isfile(path):
            return {}
        try:
            with open(path, encoding="utf-8") as file:
                record = json.load(file)
        except (OSError, ValueError) as error:
            raise OutputFolderError(f"{self.who}: cannot read {path} ({error}); move the folder's files elsewhere "
                                    "or choose another folder") from None
        if not isinstance(record, dict):
            raise OutputFolderError(f"{self.who}: {path} is not hgq's record of its files; choose another folder")
        return record

    def _write_record(self):
        with open(os.path.join(self.path, RECORD), "w", encoding="utf-8") as file:
            json.dump(self.record, file, indent=1, sort_keys=True)

    def owns(self, name):
        """Whether hgq wrote the entry ``name`` of this folder."""
        return WHOLE in self.record or name in self.record

    def foreign(self):
        """The folder's entries that hgq did not write, sorted."""
        return sorted(name for name in os.listdir(self.path) if name != RECORD and not self.owns(name))

    def own_all(self):
        """Record that every file in this folder is hgq's (a folder that another tool, hls4ml, fills). Only for a
        folder without foreign files."""
        foreign = self.foreign()
        if foreign:
            raise OutputFolderError(f"{self.who}: {self.path} holds files that hgq did not write "
                                    f"({_listing(foreign)}); choose a new or empty folder")
        if self.record != {WHOLE: self.who}:
            self.record = {WHOLE: self.who}
            self._write_record()
        return self

    def target(self, name):
        """The path of the entry ``name``, recorded as hgq's, to write; refused if a file that hgq did not write
        is there."""
        path = os.path.join(self.path, name)
        self.record = self._read_record()  # other writers may have added to it
        if os.path.lexists(path) and not self.owns(name):
            raise OutputFolderError(f"{self.who}: {path} exists and hgq did not write it; it is left as it is: move "
                                    "it or choose another output")
        if not self.owns(name):
            self.record[name] = self.who
            self._write_record()
        return path

    def remove(self, name):
        """Delete the file ``name`` that hgq wrote (a folder only when empty) and drop it from the record."""
        self.record = self._read_record()
        if not self.owns(name):
            raise OutputFolderError(f"{self.who}: refusing to delete {os.path.join(self.path, name)}: hgq did not "
                                    "write it")
        path = os.path.join(self.path, name)
        if os.path.isdir(path) and not os.path.islink(path):
            if not os.listdir(path):
                os.rmdir(path)
        elif os.path.lexists(path):
            os.remove(path)
        if name in self.record and not os.path.lexists(path):
            del self.record[name]
            self._write_record()

    def clear(self):
        """Delete what ``who`` wrote here before (its recorded files); other files stay."""
        for name in [name for name, writer in self._read_record().items() if writer == self.who and name != WHOLE]:
            self.remove(name)


def output_file(path, who):
    """The path of an output file named by the user: refused if a file that hgq did not write is there."""
    folder, name = os.path.split(os.fspath(path))
    return OutputFolder(folder or os.curdir, who, overwrite=True).target(name)


def _listing(names, shown=5):
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
