/*
 * gmime_autoptr — g_autoptr() support for the GMime 3 types templates/ uses.
 *
 * GMime 3.2 declares its classes without G_DECLARE_*, so GLib cannot derive
 * the cleanup functions.  Private to the .c files of templates/ (not included from public
 * headers) so that another module defining the same cleanups does not clash;
 * if a second module needs them, move this file to a common place.
 */
#pragma once

#include <gmime/gmime.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InternetAddress, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InternetAddressList, g_object_unref)
