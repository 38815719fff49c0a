#!/usr/bin/env bash
# Installs the system packages the build needs when they are missing:
# cmake and nasm build libjpeg-turbo (SIMD) for the turbojpeg crate.
set -euo pipefail
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v nasm >/dev/null || missing+=(nasm)
command -v cc >/dev/null || missing+=(build-essential)
# ffmpeg and ffprobe process video (MP4 through graphs).
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing build prerequisites: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
