"""Copy a kernel BTF with one struct member renamed: the BTF of a kernel where that field does
not exist (renamed or configured out), for `record --btf`. Only name offsets change: every
type keeps its id, size and layout.
Usage: btf_rename.py IN OUT STRUCT MEMBER NEWNAME (NEWNAME must already be a string in IN)"""
import struct
import sys

# bytes after the 12-byte btf_type for each kind: (fixed, per vlen)
KIND_EXTRA = {1: (4, 0), 2: (0, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8), 7: (0, 0),
              8: (0, 0), 9: (0, 0), 10: (0, 0), 11: (0, 0), 12: (0, 0), 13: (0, 8), 14: (4, 0),
              15: (0, 12), 16: (0, 0), 17: (4, 0), 18: (0, 0), 19: (0, 12)}


def main(src, dst, sname, member, newname):
    data = bytearray(open(src, "rb").read())
    magic, ver, flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data)
    assert magic == 0xEB9F
    strs = hdr_len + str_off
    strings = bytes(data[strs:strs + str_len])

    def name(off):
        return strings[off:strings.index(b"\0", off)].decode()

    def find_str(s):
        i = strings.find(b"\0" + s.encode() + b"\0")
        assert i >= 0, f"{s!r} is not a string of this BTF"
        return i + 1

    types, pos, end = [None], hdr_len + type_off, hdr_len + type_off + type_len
    while pos < end:  # index every type: id -> (offset, kind, vlen, name_off)
        name_off, info, _ = struct.unpack_from("<III", data, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        types.append((pos, kind, vlen, name_off))
        fixed, per = KIND_EXTRA[kind]
        pos += 12 + fixed + per * vlen

    def members(tid):
        off, kind, vlen, _ = types[tid]
        return [(off + 12 + 12 * i,) + struct.unpack_from("<III", data, off + 12 + 12 * i)
                for i in range(vlen)] if kind in (4, 5) else []

    def rename_in(tid, depth=0):  # anonymous members are searched too, as CO-RE does
        n = 0
        for moff, mname, mtype, _ in members(tid):
            if mname and name(mname) == member:
                struct.pack_into("<I", data, moff, find_str(newname))
                n += 1
            elif not mname and depth < 4:
                n += rename_in(mtype, depth + 1)
        return n

    done = sum(rename_in(t) for t in range(1, len(types))
               if types[t][1] == 4 and types[t][3] and name(types[t][3]) == sname)
    assert done, f"no member {member} in struct {sname}"
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main(*sys.argv[1:6])
