// The fatbin container (nvcc's, magic 0xBA55ED50) holds entries of PTX (kind 1, compressed) and ELF cubins (kind 2,
// one per SM version). A cubin is an ELF64 file: each kernel has `.nv.info.<name>` (its attributes, among them one
// EIATTR_KPARAM_INFO record per parameter) and `.nv.shared.<name>` (NOBITS, its static shared memory); the module's
// `.nv.info` holds EIATTR_REGCOUNT per kernel symbol. Attribute records are 4-byte: format, attribute, then either a
// 16-bit value or (format EIFMT_SVAL) a 16-bit size and that many bytes.
#include "fatbin.h"

#include <cstring>

namespace emu {
namespace {

constexpr uint32_t FATBIN_MAGIC = 0xBA55ED50u;
constexpr uint16_t ENTRY_ELF = 2;
constexpr uint8_t EIFMT_SVAL = 4;
constexpr uint8_t EIATTR_REGCOUNT = 0x2f;
constexpr uint8_t EIATTR_KPARAM_INFO = 0x17;
// sm_80 and later reserve 1 KiB of every block's shared memory for the system; cubins count it in each kernel's
// .nv.shared section, the driver's SHARED_SIZE_BYTES does not.
constexpr uint32_t RESERVED_SMEM = 1024;

template <typename T>
bool read(const unsigned char* base, size_t size, size_t at, T* out) {
    if (at > size || size - at < sizeof(T)) return false;
    std::memcpy(out, base + at, sizeof(T));
    return true;
}

struct Section {
    std::string name;
    uint32_t type = 0, link = 0;
    uint64_t offset = 0, size = 0;
};

bool parse_cubin(const unsigned char* elf, size_t size, int arch, FatbinImage* out, std::string* why) {
    uint64_t shoff = 0;
    uint16_t shentsize = 0, shnum = 0, shstrndx = 0;
    if (size < 64 || std::memcmp(elf, "\x7f" "ELF", 4) != 0 || elf[4] != 2 || !read(elf, size, 0x28, &shoff)
        || !read(elf, size, 0x3a, &shentsize) || !read(elf, size, 0x3c, &shnum) || !read(elf, size, 0x3e, &shstrndx)
        || shentsize < 64 || shstrndx >= shnum) {
        *why = "sm_" + std::to_string(arch) + " cubin is not a 64-bit ELF file";
        return false;
    }
    std::vector<Section> sections(shnum);
    std::vector<uint32_t> name_offsets(shnum);
    for (uint16_t i = 0; i < shnum; i++) {
        size_t at = shoff + (size_t)i * shentsize;
        if (!read(elf, size, at, &name_offsets[i]) || !read(elf, size, at + 4, &sections[i].type)
            || !read(elf, size, at + 24, &sections[i].offset) || !read(elf, size, at + 32, &sections[i].size)
            || !read(elf, size, at + 40, &sections[i].link)) {
            *why = "truncated section table";
            return false;
        }
    }
    const Section& names = sections[shstrndx];
    for (uint16_t i = 0; i < shnum; i++) {
        size_t at = names.offset + name_offsets[i];
        if (at >= size) {
            *why = "bad section name";
            return false;
        }
        sections[i].name = std::string((const char*)elf + at, strnlen((const char*)elf + at, size - at));
    }
    // Symbols, for REGCOUNT's symbol indices.
    std::vector<std::string> symbols;
    for (const Section& s : sections) {
        if (s.type != 2 /* SHT_SYMTAB */ || s.link >= shnum) continue;
        const Section& strtab = sections[s.link];
        for (uint64_t at = s.offset; at + 24 <= s.offset + s.size && at + 24 <= size; at += 24) {
            uint32_t n = 0;
            read(elf, size, at, &n);
            size_t p = strtab.offset + n;
            symbols.push_back(p < size ? std::string((const char*)elf + p, strnlen((const char*)elf + p, size - p)) : "");
        }
    }
    auto records = [&](const Section& s, auto&& visit) {
        for (uint64_t at = s.offset; at + 4 <= s.offset + s.size && at + 4 <= size;) {
            uint8_t format = elf[at], attr = elf[at + 1];
            uint16_t value = 0;
            read(elf, size, at + 2, &value);
            if (format == EIFMT_SVAL) {
                visit(attr, elf + at + 4, (size_t)value);
                at += 4 + value;
            } else {
                at += 4;
            }
        }
    };
    const std::string info_prefix = ".nv.info.", shared_prefix = ".nv.shared.";
    for (const Section& s : sections) {
        if (s.name.compare(0, info_prefix.size(), info_prefix) != 0) continue;
        KernelInfo k;
        k.name = s.name.substr(info_prefix.size());
        std::map<uint32_t, uint32_t> params;  // ordinal -> size
        records(s, [&](uint8_t attr, const unsigned char* p, size_t n) {
            if (attr != EIATTR_KPARAM_INFO || n < 12) return;
            uint16_t ordinal;
            uint32_t flags;
            std::memcpy(&ordinal, p + 4, 2);
            std::memcpy(&flags, p + 8, 4);
            params[ordinal] = (flags >> 18) & 0x3fff;
        });
        for (auto& [ordinal, bytes] : params) k.param_sizes.push_back(bytes);
        out->kernels[k.name] = k;
    }
    for (const Section& s : sections) {
        if (s.name.compare(0, shared_prefix.size(), shared_prefix) == 0) {
            auto k = out->kernels.find(s.name.substr(shared_prefix.size()));
            if (k != out->kernels.end())
                k->second.static_smem = (uint32_t)(s.size >= RESERVED_SMEM ? s.size - RESERVED_SMEM : s.size);
        }
        if (s.name == ".nv.info") {
            records(s, [&](uint8_t attr, const unsigned char* p, size_t n) {
                if (attr != EIATTR_REGCOUNT || n < 8) return;
                uint32_t sym, regs;
                std::memcpy(&sym, p, 4);
                std::memcpy(&regs, p + 4, 4);
                if (sym < symbols.size()) {
                    auto k = out->kernels.find(symbols[sym]);
                    if (k != out->kernels.end()) k->second.registers = regs;
                }
            });
        }
    }
    out->arch = arch;
    return true;
}

}  // namespace

bool parse_fatbin(const void* image, size_t max_bytes, int want_arch, FatbinImage* out, std::string* why) {
    const unsigned char* d = (const unsigned char*)image;
    uint32_t magic = 0;
    uint16_t header = 0;
    uint64_t body = 0;
    if (!read(d, max_bytes, 0, &magic) || magic != FATBIN_MAGIC || !read(d, max_bytes, 6, &header)
        || !read(d, max_bytes, 8, &body)) {
        *why = "not an nvcc fatbin (no 0xBA55ED50 magic)";
        return false;
    }
    std::vector<int> found;
    for (uint64_t at = header; at + 32 <= header + body && at + 32 <= max_bytes;) {
        uint16_t kind = 0;
        uint32_t entry_header = 0, arch = 0;
        uint64_t payload = 0;
        read(d, max_bytes, at, &kind);
        read(d, max_bytes, at + 4, &entry_header);
        read(d, max_bytes, at + 8, &payload);
        read(d, max_bytes, at + 28, &arch);
        if (kind == ENTRY_ELF) {
            found.push_back((int)arch);
            if ((int)arch == want_arch) {
                if (at + entry_header + payload > max_bytes) {
                    *why = "truncated fatbin";
                    return false;
                }
                return parse_cubin(d + at + entry_header, payload, (int)arch, out, why);
            }
        }
        at += entry_header + payload;
    }
    *why = "no sm_" + std::to_string(want_arch) + " SASS in the fatbin (it has";
    for (int a : found) *why += " sm_" + std::to_string(a);
    *why += found.empty() ? " none)" : ")";
    return false;
}

}  // namespace emu
