// The block scheduler of the emulated device: runs one launch's grid on the calling host thread with CUDA's execution
// semantics. Blocks run one after another (in index order, or a seeded random order when fuzzing); a block's threads
// are fibers on stacks of their own, and each runs until it reaches a point where CUDA threads meet — __syncthreads,
// a warp collective — or exits. Then the next ready thread runs. A barrier opens when every live thread of the block
// has reached it; a warp collective completes when every lane its mask names has reached it. Anything a real device
// would leave undefined (a barrier reached at different places, a mask naming an exited lane, a deadlock) ends the
// launch with an error naming the kernel, block, thread and source line.
//
// Under the fuzzing schedule the next thread is drawn at random from the ready ones, and every atomic or fence may
// yield first, so code that relies on warp lock-step without __syncwarp, or on an order of atomics, gives results
// that change with the seed.
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_emu.h"
#include "emu_abi.h"
#include "emu_kernels.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#else
#define EMU_ASAN 0
#endif

// Static shared memory of every kernel (cuda_emu.h puts each __shared__ variable in this section).
extern "C" char __start_emu_shared[] __attribute__((weak));
extern "C" char __stop_emu_shared[] __attribute__((weak));

namespace emu {
thread_local ThreadView* tl_thread __attribute__((tls_model("initial-exec")));
thread_local BlockView* tl_block __attribute__((tls_model("initial-exec")));

// ------------------------------------------------------------------------------------------------ fibers
// A context switch that saves the callee-saved registers on the old stack and restores them from the new one (System
// V x86-64: everything else is caller-saved across a call). MXCSR and the x87 control word are callee-saved too, but
// no kernel changes them: every fiber runs with the host thread's, and the switch stays cheap.
extern "C" void emu_fiber_switch(void** save_sp, void* to_sp);
extern "C" void emu_fiber_start();
asm(R"(
    .text
    .globl emu_fiber_switch
    .hidden emu_fiber_switch
    .type emu_fiber_switch, @function
emu_fiber_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_fiber_switch, .-emu_fiber_switch

    .globl emu_fiber_start
    .hidden emu_fiber_start
    .type emu_fiber_start, @function
emu_fiber_start:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size emu_fiber_start, .-emu_fiber_start
)");

// Fiber stacks: mapped once per host thread and reused by every block; a guard page below each catches overflow.
constexpr size_t STACK_BYTES = 256 * 1024;

struct Stack {
    unsigned char* base = nullptr;  // lowest usable byte
    size_t size = 0;
};

class StackPool {
public:
    const Stack& get(size_t i) {
        while (stacks_.size() <= i) {
            size_t page = (size_t)sysconf(_SC_PAGESIZE);
            void* m = mmap(nullptr, STACK_BYTES + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                           -1, 0);
            if (m == MAP_FAILED) {
                std::fprintf(stderr, "atmsae-emu: cannot map a fiber stack\n");
                std::abort();
            }
            mprotect(m, page, PROT_NONE);
            stacks_.push_back(Stack{(unsigned char*)m + page, STACK_BYTES});
        }
        return stacks_[i];
    }

private:
    std::vector<Stack> stacks_;
};

// ------------------------------------------------------------------------------------------------ threads, blocks

enum class State : uint8_t { READY, BARRIER, WARP, EXITED };

struct Thread : ThreadView {
    unsigned linear = 0, lane = 0, warp = 0;
    State state = State::READY;
    bool started = false;
    void* sp = nullptr;
    Stack stack;  // its fiber stack (owned by the pool)
    void* fake_stack = nullptr;  // AddressSanitizer's fake stack of this fiber while it is switched out
    // The point it waits at: a barrier or a warp collective.
    const char* file = nullptr;
    int line = 0;
    BarrierOp barrier_op = BarrierOp::PLAIN;
    WarpOp warp_op = WarpOp::SYNC;
    unsigned mask = 0;
    uint64_t value = 0;
    int arg = 0, segment = 32;
    int* pred_out = nullptr;
    uint64_t result = 0;
};

// SplitMix64: the schedule's random numbers (seeded per launch by the driver).
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    uint32_t below(uint32_t n) { return (uint32_t)((next() >> 32) * n >> 32); }
};

struct Block : BlockView {
    const char* kernel = "";
    void (*body)(void*) = nullptr;
    void* body_ctx = nullptr;
    std::vector<Thread> threads;
    std::vector<unsigned> waiting;  // per warp: the lanes waiting in a collective
    std::vector<unsigned> exited;   // per warp: the lanes that have exited
    std::vector<unsigned> ready;    // in index order (a FIFO from `head`) or drawn at random
    size_t head = 0;
    unsigned live = 0, at_barrier = 0;
    bool fuzz = false;
    Rng rng{0};
    unsigned char* dyn = nullptr;
    EmuKernelStats* stats = nullptr;
    std::string error;
    // The scheduler's own context: the host thread's stack.
    void* sched_sp = nullptr;
    void* sched_stack_bottom = nullptr;
    size_t sched_stack_size = 0;
};

thread_local StackPool tl_stacks;
thread_local Block* tl_run __attribute__((tls_model("initial-exec")));

Thread* self() { return static_cast<Thread*>(tl_thread); }

unsigned pick(Block* b);
void* fresh_stack(const Stack& s, Thread* t);

// Leaves the running fiber for the next ready thread, directly (no detour through the scheduler), or for the
// scheduler when none is ready (the block is done, or deadlocked) or the launch failed. Returns when the fiber is
// picked again. `dying`: the fiber never resumes (AddressSanitizer then frees its fake stack).
void leave(bool dying) {
    Block* b = tl_run;
    Thread* t = self();
    Thread* next = b->error.empty() && b->head < b->ready.size() ? &b->threads[pick(b)] : nullptr;
    if (next == t) return;  // it is its own successor (a yield, or the barrier it opened)
    void* to_bottom = b->sched_stack_bottom;
    size_t to_size = b->sched_stack_size;
    void* to_sp = b->sched_sp;
    if (next != nullptr) {
        tl_thread = next;
        if (!next->started) {
            next->started = true;
            next->sp = fresh_stack(next->stack, next);
        }
        to_bottom = next->stack.base;
        to_size = next->stack.size;
        to_sp = next->sp;
    }
#if EMU_ASAN
    __sanitizer_start_switch_fiber(dying ? nullptr : &t->fake_stack, to_bottom, to_size);
#else
    (void)dying;
    (void)to_bottom;
    (void)to_size;
#endif
    emu_fiber_switch(&t->sp, to_sp);
#if EMU_ASAN
    __sanitizer_finish_switch_fiber(t->fake_stack, nullptr, nullptr);
#endif
}

// "kernel block (x,y,z)": where an error message says it happened.
std::string block_name(const Block* b) {
    return std::string(b->kernel) + " block (" + std::to_string(b->idx.x) + "," + std::to_string(b->idx.y) + ","
        + std::to_string(b->idx.z) + ")";
}

// Ends the launch with an error (the first one wins); the fiber is abandoned where it stands.
[[noreturn]] void fail(const char* fmt, ...) {
    Block* b = tl_run;
    Thread* t = self();
    if (b->error.empty()) {
        char msg[600];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        char thread[80];
        std::snprintf(thread, sizeof thread, " thread (%u,%u,%u): ", t->idx.x, t->idx.y, t->idx.z);
        b->error = block_name(b) + thread + msg;
    }
    leave(true);
    __builtin_unreachable();
}

void make_ready(Block* b, unsigned i) {
    b->threads[i].state = State::READY;
    b->ready.push_back(i);
}

void yield_now() {
    Block* b = tl_run;
    b->stats->yields++;
    b->ready.push_back(self()->linear);
    leave(false);
}

// ------------------------------------------------------------------------------------------------ barriers

void open_barrier(Block* b) {
    const Thread* first = nullptr;
    int count = 0, all = 1, any = 0;
    for (const Thread& t : b->threads) {
        if (t.state != State::BARRIER) continue;
        if (first == nullptr) {
            first = &t;
        } else if (t.line != first->line || t.barrier_op != first->barrier_op
                   || (t.file != first->file && std::strcmp(t.file, first->file) != 0)) {
            b->error = block_name(b) + ": __syncthreads reached at different places (thread "
                + std::to_string(first->linear) + " at " + first->file + ":" + std::to_string(first->line) + ", thread "
                + std::to_string(t.linear) + " at " + t.file + ":" + std::to_string(t.line)
                + "): undefined behaviour on a device";
            return;
        }
        count += t.value != 0;
        all &= t.value != 0;
        any |= t.value != 0;
    }
    int result = first->barrier_op == BarrierOp::COUNT ? count : first->barrier_op == BarrierOp::AND ? all
                 : first->barrier_op == BarrierOp::OR ? any : 0;
    for (unsigned i = 0; i < b->threads.size(); i++) {
        if (b->threads[i].state == State::BARRIER) {
            b->threads[i].result = (uint64_t)result;
            make_ready(b, i);
        }
    }
    b->at_barrier = 0;
    b->stats->barriers++;
}

int block_barrier(BarrierOp op, int predicate, const char* file, int line) {
    Block* b = tl_run;
    Thread* t = self();
    t->state = State::BARRIER;
    t->barrier_op = op;
    t->value = (uint64_t)predicate;
    t->file = file;
    t->line = line;
    if (++b->at_barrier == b->live) open_barrier(b);
    leave(false);
    return (int)t->result;
}

// ------------------------------------------------------------------------------------------------ warp collectives

const char* op_name(WarpOp op) {
    switch (op) {
        case WarpOp::SHFL: return "__shfl_sync";
        case WarpOp::SHFL_UP: return "__shfl_up_sync";
        case WarpOp::SHFL_DOWN: return "__shfl_down_sync";
        case WarpOp::SHFL_XOR: return "__shfl_xor_sync";
        case WarpOp::BALLOT: return "__ballot_sync";
        case WarpOp::ANY: return "__any_sync";
        case WarpOp::ALL: return "__all_sync";
        case WarpOp::MATCH_ANY: return "__match_any_sync";
        case WarpOp::MATCH_ALL: return "__match_all_sync";
        case WarpOp::SYNC: return "__syncwarp";
        default: return "__reduce_*_sync";
    }
}

// The value a shuffle reads for `lane`: the source lane's operand, the lane's own where the source lies past its
// segment, and all-ones bits (a visible poison) where the source lane takes no part (undefined on a device).
uint64_t shuffle_read(const Thread* warp, unsigned lane, const Thread& me) {
    unsigned w = (unsigned)me.segment, base = lane & ~(w - 1);
    int src;
    switch (me.warp_op) {
        case WarpOp::SHFL: src = (int)(base + ((unsigned)me.arg & (w - 1))); break;
        case WarpOp::SHFL_UP: src = (int)lane - me.arg; if (src < (int)base) return me.value; break;
        case WarpOp::SHFL_DOWN: src = (int)lane + me.arg; if (src >= (int)(base + w)) return me.value; break;
        default: src = (int)(lane ^ (unsigned)me.arg); if (src >= (int)(base + w)) return me.value; break;
    }
    if (src < 0 || src > 31 || !(me.mask >> src & 1u)) return ~0ull;
    return warp[src].value;
}

uint64_t reduce(const Thread* warp, const Thread& me) {
    uint32_t acc = 0;
    bool first = true;
    for (unsigned l = 0; l < 32; l++) {
        if (!(me.mask >> l & 1u)) continue;
        uint32_t v = (uint32_t)warp[l].value;
        if (first) {
            acc = v;
            first = false;
            continue;
        }
        switch (me.warp_op) {
            case WarpOp::REDUCE_ADD: acc += v; break;
            case WarpOp::REDUCE_MIN: acc = me.arg ? (uint32_t)min((int)acc, (int)v) : min(acc, v); break;
            case WarpOp::REDUCE_MAX: acc = me.arg ? (uint32_t)max((int)acc, (int)v) : max(acc, v); break;
            case WarpOp::REDUCE_AND: acc &= v; break;
            case WarpOp::REDUCE_OR: acc |= v; break;
            default: acc ^= v; break;
        }
    }
    return acc;
}

void complete_collective(Block* b, Thread* warp, unsigned mask) {
    const Thread& lead = warp[__builtin_ctz(mask)];
    for (unsigned l = 0; l < 32; l++) {
        if (!(mask >> l & 1u)) continue;
        Thread& t = warp[l];
        uint64_t r = 0;
        switch (lead.warp_op) {
            case WarpOp::SHFL:
            case WarpOp::SHFL_UP:
            case WarpOp::SHFL_DOWN:
            case WarpOp::SHFL_XOR: r = shuffle_read(warp, l, t); break;
            case WarpOp::BALLOT:
            case WarpOp::ANY:
            case WarpOp::ALL: {
                unsigned ballot = 0;
                for (unsigned s = 0; s < 32; s++)
                    if ((mask >> s & 1u) && warp[s].value != 0) ballot |= 1u << s;
                r = lead.warp_op == WarpOp::BALLOT ? ballot : lead.warp_op == WarpOp::ANY ? ballot != 0 : ballot == mask;
                break;
            }
            case WarpOp::MATCH_ANY:
            case WarpOp::MATCH_ALL: {
                unsigned same = 0;
                for (unsigned s = 0; s < 32; s++)
                    if ((mask >> s & 1u) && warp[s].value == t.value) same |= 1u << s;
                if (lead.warp_op == WarpOp::MATCH_ANY) {
                    r = same;
                } else {
                    r = same == mask ? mask : 0;
                    if (t.pred_out != nullptr) *t.pred_out = same == mask;
                }
                break;
            }
            case WarpOp::SYNC: break;
            default: r = reduce(warp, t); break;
        }
        t.result = r;
    }
    for (unsigned l = 0; l < 32; l++)
        if (mask >> l & 1u) make_ready(b, warp[l].linear);
    b->waiting[lead.warp] &= ~mask;
    b->stats->warp_ops++;
}

uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int arg, int segment, int* pred_out,
                         const char* file, int line) {
    Block* b = tl_run;
    Thread* t = self();
    Thread* warp = &b->threads[t->warp * 32];
    unsigned lanes = (unsigned)std::min<size_t>(32, b->threads.size() - t->warp * 32);
    if (!(mask >> t->lane & 1u))
        fail("%s at %s:%d with mask 0x%08x, which does not name the calling lane %u", op_name(op), file, line, mask,
             t->lane);
    if (lanes < 32 && (mask >> lanes) != 0)
        fail("%s at %s:%d with mask 0x%08x names lanes past the warp's %u threads", op_name(op), file, line, mask, lanes);
    if (segment < 1 || segment > 32 || (segment & (segment - 1)) != 0)
        fail("%s at %s:%d with width %d (must be a power of two, at most 32)", op_name(op), file, line, segment);
    if (b->exited[t->warp] & mask) {
        unsigned gone = __builtin_ctz(b->exited[t->warp] & mask);
        fail("%s at %s:%d with mask 0x%08x names lane %u, which has exited (undefined on a device)", op_name(op),
             file, line, mask, gone);
    }
    t->state = State::WARP;
    t->warp_op = op;
    t->mask = mask;
    t->value = value;
    t->arg = arg;
    t->segment = segment;
    t->pred_out = pred_out;
    t->file = file;
    t->line = line;
    unsigned& waiting = b->waiting[t->warp];
    waiting |= 1u << t->lane;
    // Complete once every lane the mask names waits; then they must all wait in this collective.
    if ((waiting & mask) == mask) {
        for (unsigned l = 0; l < 32; l++) {
            const Thread& o = warp[l];
            if ((mask >> l & 1u) && (o.warp_op != op || o.mask != mask))
                fail("lanes %u and %u of warp %u meet in different collectives: %s mask 0x%08x at %s:%d and %s mask "
                     "0x%08x at %s:%d", t->lane, l, t->warp, op_name(op), mask, file, line, op_name(o.warp_op), o.mask,
                     o.file, o.line);
        }
        complete_collective(b, warp, mask);
    }
    leave(false);
    return t->result;
}

void interleave_point(bool atomic) {
    Block* b = tl_run;
    if (atomic) b->stats->atomics++;
    if (b->fuzz && b->rng.below(4) == 0) yield_now();
}

unsigned char* dynamic_smem() { return tl_run->dyn; }

unsigned active_lanes() {
    Block* b = tl_run;
    Thread* t = self();
    unsigned m = 0;
    for (unsigned l = 0; l < 32 && t->warp * 32 + l < b->threads.size(); l++)
        if (b->threads[t->warp * 32 + l].state != State::EXITED) m |= 1u << l;
    return m;
}

// ------------------------------------------------------------------------------------------------ running a block

void thread_exit(Block* b, Thread* t) {
    t->state = State::EXITED;
    b->live--;
    b->exited[t->warp] |= 1u << t->lane;
    // A lane waiting in a collective whose mask names this lane can never complete.
    Thread* warp = &b->threads[t->warp * 32];
    for (unsigned w = b->waiting[t->warp]; w != 0; w &= w - 1) {
        const Thread& o = warp[__builtin_ctz(w)];
        if (o.mask >> t->lane & 1u)
            fail("exited while lane %u waits in %s at %s:%d with mask 0x%08x naming it (undefined on a device)",
                 o.lane, op_name(o.warp_op), o.file, o.line, o.mask);
    }
    if (b->at_barrier > 0 && b->at_barrier == b->live) open_barrier(b);
    leave(true);
}

void fiber_main(Thread* t) {
    Block* b = tl_run;
#if EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
    b->body(b->body_ctx);
    thread_exit(b, t);
    __builtin_unreachable();
}

// A new fiber's stack, laid out as emu_fiber_switch leaves a suspended one: r15..rbp (r12 = the thread, r13 =
// fiber_main), then emu_fiber_start as the return address; 16-byte aligned once it returns there.
void* fresh_stack(const Stack& s, Thread* t) {
    uintptr_t top = ((uintptr_t)(s.base + s.size)) & ~(uintptr_t)15;
    uint64_t* sp = (uint64_t*)(top - 72);
    sp[0] = 0;                                  // r15
    sp[1] = 0;                                  // r14
    sp[2] = (uint64_t)(uintptr_t)&fiber_main;   // r13
    sp[3] = (uint64_t)(uintptr_t)t;             // r12
    sp[4] = 0;                                  // rbx
    sp[5] = 0;                                  // rbp
    sp[6] = (uint64_t)(uintptr_t)&emu_fiber_start;
    return sp;
}

unsigned pick(Block* b) {
    if (!b->fuzz) {
        unsigned next = b->ready[b->head++];
        if (b->head == b->ready.size()) {  // drained: reuse the storage from the start
            b->ready.clear();
            b->head = 0;
        }
        return next;
    }
    size_t n = b->ready.size() - b->head;
    size_t i = b->head + b->rng.below((uint32_t)n);
    unsigned chosen = b->ready[i];
    b->ready[i] = b->ready.back();
    b->ready.pop_back();
    return chosen;
}

std::string describe_stuck(const Block* b) {
    unsigned barrier = 0, warp = 0;
    const Thread* example = nullptr;
    for (const Thread& t : b->threads) {
        if (t.state == State::BARRIER) barrier++;
        if (t.state == State::WARP) {
            warp++;
            if (example == nullptr) example = &t;
        }
    }
    std::string s = block_name(b) + ": deadlock: " + std::to_string(barrier) + " threads wait at __syncthreads, "
        + std::to_string(warp) + " in warp collectives";
    if (example != nullptr)
        s += std::string(" (thread ") + std::to_string(example->linear) + " in " + op_name(example->warp_op) + " at "
            + example->file + ":" + std::to_string(example->line) + ")";
    return s + "; a device would hang";
}

bool run_block(Block* b) {
    size_t n = b->threads.size();
    b->ready.clear();
    b->head = 0;
    for (unsigned i = 0; i < n; i++) {
        Thread& t = b->threads[i];
        t.state = State::READY;
        t.started = false;
        t.fake_stack = nullptr;
        b->ready.push_back(i);
    }
    std::fill(b->waiting.begin(), b->waiting.end(), 0u);
    std::fill(b->exited.begin(), b->exited.end(), 0u);
    b->live = (unsigned)n;
    b->at_barrier = 0;
    b->stats->blocks++;
    b->stats->threads += n;
    // The threads hand control to one another (leave()); it comes back here when none is ready.
    while (b->error.empty() && b->head < b->ready.size()) {
        Thread* t = &b->threads[pick(b)];
        tl_thread = t;
        if (!t->started) {
            t->started = true;
            t->sp = fresh_stack(t->stack, t);
        }
#if EMU_ASAN
        void* fake = nullptr;
        __sanitizer_start_switch_fiber(&fake, t->stack.base, t->stack.size);
#endif
        emu_fiber_switch(&b->sched_sp, t->sp);
#if EMU_ASAN
        __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    }
    if (!b->error.empty()) return false;
    if (b->live > 0) {
        b->error = describe_stuck(b);
        return false;
    }
    return true;
}

// The launch's dynamic shared memory. Under AddressSanitizer an allocation of exactly its size (an overrun is caught
// at the faulting line); otherwise framed by guard bytes checked after each block, so a kernel writing past its
// shared memory fails the launch (checked once the grid is done) instead of corrupting the host heap.
class DynamicSmem {
public:
    explicit DynamicSmem(size_t bytes) : bytes_(bytes), guard_(EMU_ASAN ? 0 : GUARD) {
        base_ = (unsigned char*)std::malloc(bytes_ + 2 * guard_ + 1);
        std::memset(base_, GUARD_BYTE, guard_);
        std::memset(base_ + guard_ + bytes_, GUARD_BYTE, guard_);
    }
    ~DynamicSmem() { std::free(base_); }
    DynamicSmem(const DynamicSmem&) = delete;
    DynamicSmem& operator=(const DynamicSmem&) = delete;

    unsigned char* data() { return base_ + guard_; }

    bool guards_intact() const {
        for (size_t i = 0; i < guard_; i += 8) {
            uint64_t lo, hi;
            std::memcpy(&lo, base_ + i, 8);
            std::memcpy(&hi, base_ + guard_ + bytes_ + i, 8);
            if (lo != GUARD_WORD || hi != GUARD_WORD) return false;
        }
        return true;
    }

private:
    static constexpr size_t GUARD = 64 * 1024;
    static constexpr unsigned char GUARD_BYTE = 0xa5;
    static constexpr uint64_t GUARD_WORD = 0xa5a5a5a5a5a5a5a5ull;
    size_t bytes_, guard_;
    unsigned char* base_;
};

void poison_shared(unsigned char* dyn, size_t dyn_bytes, int byte) {
    if (__start_emu_shared != nullptr) std::memset(__start_emu_shared, byte, (size_t)(__stop_emu_shared - __start_emu_shared));
    if (dyn_bytes > 0) std::memset(dyn, byte, dyn_bytes);
}

}  // namespace emu

int emu_run_grid(const EmuLaunch* how, void (*body)(void*), void* ctx, EmuKernelStats* stats, char* err,
                 size_t errlen) {
    using namespace emu;
    Block b;
    b.kernel = how->kernel;
    b.body = body;
    b.body_ctx = ctx;
    b.grid = dim3(how->grid[0], how->grid[1], how->grid[2]);
    b.dim = dim3(how->block[0], how->block[1], how->block[2]);
    b.fuzz = how->fuzz != 0;
    b.rng.s = how->seed;
    b.stats = stats;
    size_t per_block = (size_t)how->block[0] * how->block[1] * how->block[2];
    b.threads.resize(per_block);
    b.waiting.resize((per_block + 31) / 32);
    b.exited.resize((per_block + 31) / 32);
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &b.sched_stack_bottom, &b.sched_stack_size);
        pthread_attr_destroy(&attr);
    }
    for (unsigned i = 0; i < per_block; i++) {
        Thread& t = b.threads[i];
        t.linear = i;
        t.lane = i & 31;
        t.warp = i >> 5;
        t.idx = uint3{i % how->block[0], (i / how->block[0]) % how->block[1], i / (how->block[0] * how->block[1])};
        t.stack = tl_stacks.get(i);
    }
    DynamicSmem dyn(how->dynamic_smem);
    b.dyn = dyn.data();
    uint64_t blocks = (uint64_t)how->grid[0] * how->grid[1] * how->grid[2];
    std::vector<uint64_t> order;
    if (b.fuzz) {
        order.resize(blocks);
        for (uint64_t i = 0; i < blocks; i++) order[i] = i;
        for (uint64_t i = blocks; i > 1; i--) std::swap(order[i - 1], order[b.rng.next() % i]);
    }
    tl_block = &b;
    tl_run = &b;
    bool ok = true;
    for (uint64_t k = 0; k < blocks && ok; k++) {
        uint64_t id = b.fuzz ? order[k] : k;
        b.idx = uint3{(unsigned)(id % how->grid[0]), (unsigned)((id / how->grid[0]) % how->grid[1]),
                      (unsigned)(id / ((uint64_t)how->grid[0] * how->grid[1]))};
        poison_shared(b.dyn, how->dynamic_smem, b.fuzz ? (int)(b.rng.next() & 0xff) : how->poison);
        ok = run_block(&b);
    }
    if (ok && !dyn.guards_intact()) {
        b.error = std::string(b.kernel) + ": a block wrote outside its " + std::to_string(how->dynamic_smem)
            + " bytes of dynamic shared memory (an illegal address on a device)";
        ok = false;
    }
    stats->launches++;
    tl_block = nullptr;
    tl_run = nullptr;
    tl_thread = nullptr;
    if (!ok) {
        std::snprintf(err, errlen, "%s", b.error.c_str());
        return 1;
    }
    return 0;
}
