#include "services/delivery/submission_input.hpp"

#include <doctest/doctest.h>

using namespace crowd::delivery;

TEST_CASE("content_sha256: 64 lower-case hex") {
  CHECK(is_sha256_hex(std::string(64, 'f')));
  CHECK(is_sha256_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK_FALSE(is_sha256_hex(std::string(64, 'F')));
  CHECK_FALSE(is_sha256_hex(std::string(63, 'a')));
  CHECK_FALSE(is_sha256_hex(std::string(65, 'a')));
  CHECK_FALSE(is_sha256_hex(std::string(64, 'g')));
  CHECK_FALSE(is_sha256_hex(""));
}

TEST_CASE("media_type: type/subtype") {
  CHECK(is_media_type("application/pdf"));
  CHECK(is_media_type("image/svg+xml"));
  CHECK(is_media_type("application/vnd.openxmlformats-officedocument.wordprocessingml.document"));
  CHECK(is_media_type("Text/Plain"));
  CHECK_FALSE(is_media_type("pdf"));
  CHECK_FALSE(is_media_type("/pdf"));
  CHECK_FALSE(is_media_type("application/"));
  CHECK_FALSE(is_media_type("text/plain; charset=utf-8"));
  CHECK_FALSE(is_media_type("a/b/c"));
  CHECK_FALSE(is_media_type("+x/y"));
  CHECK(ascii_lower("Text/Plain") == "text/plain");
}

TEST_CASE("storage_ref: 1..500 characters, no blanks or controls") {
  CHECK(is_storage_ref("s3://bucket/key"));
  CHECK(is_storage_ref(std::string(500, 'x')));
  CHECK(is_storage_ref("oss://桶/文件.pdf"));
  CHECK_FALSE(is_storage_ref(""));
  CHECK_FALSE(is_storage_ref(std::string(501, 'x')));
  CHECK_FALSE(is_storage_ref("s3://bucket/a key"));
  CHECK_FALSE(is_storage_ref("s3://bucket/\nkey"));
}

TEST_CASE("size limit is 10 GiB") {
  CHECK(kMaxSubmissionBytes == 10737418240LL);
}
