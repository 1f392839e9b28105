#pragma once
// Shared by the unit tests: expect an InvalidArgument whose message contains every given piece
// (the argument's name, the rule, the row), so that a test pins down what the user is told.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "seqpack/errors.h"

#define EXPECT_REJECTS(statement, ...)                                                          \
  do {                                                                                          \
    try {                                                                                       \
      statement;                                                                                \
      ADD_FAILURE() << "expected seqpack::InvalidArgument from: " #statement;                   \
    } catch (const seqpack::InvalidArgument& error) {                                           \
      for (const std::string piece : std::initializer_list<const char*>{__VA_ARGS__}) {         \
        EXPECT_NE(std::string(error.what()).find(piece), std::string::npos)                     \
            << "message lacks \"" << piece << "\": " << error.what();                           \
      }                                                                                         \
    }                                                                                           \
  } while (false)
