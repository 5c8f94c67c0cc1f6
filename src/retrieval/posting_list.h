// One term's postings in the BM25 index (internal): (document slot, weighted tf) pairs in the
// order they were appended, which is increasing slot order.
//
// Stored as a chain of blocks that double from 2 to 4,096 postings (32 KiB) and then stay at
// that size. Appending never moves what is stored: a list of std::vector spent a sixth of an
// index build re-copying the lists of common terms, and their large buffers went to and from
// the kernel (mmap) on every doubling.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace nemori::retrieval_internal {

/// One posting: a document slot and the term's weighted frequency in it.
struct Posting {
  std::uint32_t doc;
  float tf;
};

/// An append-only list of postings in blocks (see the file comment).
class PostingList {
 public:
  PostingList() = default;
  PostingList(const PostingList&) = delete;
  PostingList& operator=(const PostingList&) = delete;
  PostingList(PostingList&& other) noexcept
      : head_(other.head_), tail_(other.tail_), size_(other.size_) {
    other.head_ = other.tail_ = nullptr;
    other.size_ = 0;
  }
  PostingList& operator=(PostingList&& other) noexcept {
    if (this != &other) {
      release();
      head_ = other.head_;
      tail_ = other.tail_;
      size_ = other.size_;
      other.head_ = other.tail_ = nullptr;
      other.size_ = 0;
    }
    return *this;
  }
  ~PostingList() { release(); }

  /// Appends a posting (its slot must not be below the last one's).
  void push_back(Posting p) {
    if (tail_ == nullptr || tail_->used == tail_->capacity) grow();
    tail_->data()[tail_->used++] = p;
    ++size_;
  }

  /// Number of postings.
  std::size_t size() const { return size_; }

  /// Calls f(const Posting&) for every posting, in order.
  template <typename F>
  void for_each(F&& f) const {
    for (const Block* b = head_; b != nullptr; b = b->next) {
      const Posting* data = b->data();
      for (std::uint32_t i = 0; i < b->used; ++i) f(data[i]);
    }
  }

  /// The posting of `doc`, or nullptr.
  const Posting* find(std::uint32_t doc) const {
    for (const Block* b = head_; b != nullptr; b = b->next) {
      const Posting* data = b->data();
      if (b->used == 0 || data[b->used - 1].doc < doc) continue;
      const Posting* p = std::lower_bound(
          data, data + b->used, doc, [](const Posting& a, std::uint32_t s) { return a.doc < s; });
      return p != data + b->used && p->doc == doc ? p : nullptr;
    }
    return nullptr;
  }

  /// Bytes allocated for this list's blocks.
  std::size_t memory_bytes() const {
    std::size_t bytes = 0;
    for (const Block* b = head_; b != nullptr; b = b->next)
      bytes += sizeof(Block) + b->capacity * sizeof(Posting);
    return bytes;
  }

 private:
  static constexpr std::uint32_t kFirstBlock = 2;
  static constexpr std::uint32_t kLargestBlock = 4096;

  struct Block {
    Block* next;
    std::uint32_t capacity;
    std::uint32_t used;
    Posting* data() { return reinterpret_cast<Posting*>(this + 1); }
    const Posting* data() const { return reinterpret_cast<const Posting*>(this + 1); }
  };
  static_assert(sizeof(Block) % alignof(Posting) == 0);

  void grow() {
    const std::uint32_t capacity =
        tail_ == nullptr ? kFirstBlock : std::min(tail_->capacity * 2, kLargestBlock);
    void* memory = ::operator new(sizeof(Block) + capacity * sizeof(Posting));
    Block* b = new (memory) Block{nullptr, capacity, 0};
    if (tail_ == nullptr)
      head_ = b;
    else
      tail_->next = b;
    tail_ = b;
  }

  void release() {
    for (Block* b = head_; b != nullptr;) {
      Block* next = b->next;
      b->~Block();
      ::operator delete(b);
      b = next;
    }
    head_ = tail_ = nullptr;
    size_ = 0;
  }

  Block* head_ = nullptr;
  Block* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace nemori::retrieval_internal
