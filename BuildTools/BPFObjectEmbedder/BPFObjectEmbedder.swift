import Foundation
import PackagePlugin

/// Compiles every `bpf/NAME.bpf.c` with the toolchain's clang and hands the object to the target
/// as a generated Swift file, so `swift build` alone builds the BPF programs and the host embeds
/// them (no files to install beside the binary).
@main
struct BPFObjectEmbedder: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "bpf")
        let entries = try FileManager.default.contentsOfDirectory(
            at: bpfDirectory, includingPropertiesForKeys: nil)
        let programs = entries.filter { $0.lastPathComponent.hasSuffix(".bpf.c") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        // Any header change recompiles every program: they are small and share headers.
        let headers = entries.filter { $0.pathExtension == "h" }
        let embed = try context.tool(named: "bpf-embed").url
        let clang = try context.tool(named: "clang").url

        return programs.map { program in
            let stem = String(program.lastPathComponent.dropLast(".bpf.c".count))
            let output = context.pluginWorkDirectoryURL.appending(path: "\(stem).bpf.swift")
            return .buildCommand(
                displayName: "Compiling BPF program \(program.lastPathComponent)",
                executable: embed,
                arguments: [
                    "--clang", clang.path, "--include", bpfDirectory.path,
                    "--source", program.path, "--name", stem, "--output", output.path,
                ],
                inputFiles: [program] + headers,
                outputFiles: [output])
        }
    }
}
