# cmake -DOBJDUMP=objdump -DLIBRARY=lib.so -P check_process_wide.cmake
# Fails if the shared library has a local (per-library) copy of writable state
# of the tracing library: a local symbol in .data, .bss, .tdata or .tbss
# (thread_local variables, function-local statics and their guards). Local
# constants (.rodata, .data.rel.ro) are the same in every copy and allowed, as
# is detail::this_library, which is per library on purpose (keep_loaded.hpp).
execute_process(COMMAND ${OBJDUMP} -t -C ${LIBRARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} -t failed on ${LIBRARY}")
endif()
string(REPLACE "\n" ";" lines "${symbols}")
set(bad "")
set(shared 0)
foreach(line IN LISTS lines)
  if(NOT line MATCHES "streambus::tracing" OR line MATCHES "::detail::this_library$")
    continue()
  endif()
  # objdump -t: address, 7 flag characters, section, tab, size, name.
  if(line MATCHES "^[0-9a-f]+ (.......) ([^\t ]+)\t")
    set(flags "${CMAKE_MATCH_1}")
    set(section "${CMAKE_MATCH_2}")
    if(section MATCHES "^\\.t?(data|bss)" AND NOT section MATCHES "^\\.data\\.rel\\.ro")
      if(flags MATCHES "^l")
        string(APPEND bad "  ${line}\n")
      else()  # global, unique (g++) or weak (clang++): one copy per process
        math(EXPR shared "${shared} + 1")
      endif()
    endif()
  endif()
endforeach()
if(NOT bad STREQUAL "")
  message(FATAL_ERROR "per-library copies of process-wide state in ${LIBRARY} "
                      "(mark the function or variable STREAMBUS_TRACING_PROCESS_WIDE):\n${bad}")
endif()
if(shared LESS 10)
  message(FATAL_ERROR "only ${shared} process-wide objects found in ${LIBRARY}: is the check looking at the right library?")
endif()
message(STATUS "${shared} process-wide objects, none local")
