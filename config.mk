# Knobs a user edits. Everything else lives in the Makefile.
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
MUSLCC  ?= musl-gcc
PKG_CONFIG ?= pkg-config
# SAN=1 builds everything with AddressSanitizer and UndefinedBehaviorSanitizer.
SAN     ?= 0
