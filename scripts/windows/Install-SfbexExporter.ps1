<#
.SYNOPSIS
Installs (or upgrades, or removes) sfbex_exporter as a Windows service, from the folder of the
release zip.

.DESCRIPTION
Copies sfbex_exporter.exe and Export-SfbexSnapshot.ps1 to -InstallDir, creates -DataDir (readable by
SYSTEM and Administrators only: it holds the configuration and secrets) with a configuration file
from sfbex_exporter.conf.example unless one exists, registers the service with
`sfbex_exporter.exe install` (automatic start, restart on failure, Event Log source sfbex_exporter),
and opens the port in Windows Firewall. It does not start the service: edit the configuration first.
Run again with a newer zip to upgrade: the service is stopped, the files replaced, the configuration
kept. -Uninstall removes the service, the firewall rule and -InstallDir, and keeps -DataDir.

.EXAMPLE
.\Install-SfbexExporter.ps1
notepad C:\ProgramData\sfbex_exporter\sfbex_exporter.conf
Start-Service sfbex_exporter

.EXAMPLE
.\Install-SfbexExporter.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    [string]$InstallDir = (Join-Path $env:ProgramFiles 'sfbex_exporter'),
    [string]$DataDir = (Join-Path $env:ProgramData 'sfbex_exporter'),
    [ValidateRange(1, 65535)][int]$Port = 9726,
    [switch]$NoFirewallRule,
    [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'
$Name = 'sfbex_exporter'

$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
if (-not (New-Object Security.Principal.WindowsPrincipal($identity)).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script from an elevated PowerShell (Run as administrator).'
}
$exe = Join-Path $InstallDir 'sfbex_exporter.exe'
$service = Get-Service -Name $Name -ErrorAction SilentlyContinue

if ($Uninstall) {
    if ($service) {
        & $exe uninstall
        if ($LASTEXITCODE -ne 0) { throw "sfbex_exporter.exe uninstall failed with exit code $LASTEXITCODE" }
    }
    Get-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue | Remove-NetFirewallRule
    if (Test-Path -LiteralPath $InstallDir) { Remove-Item -LiteralPath $InstallDir -Recurse -Force }
    Write-Host "Removed $Name. The configuration, secrets and logs in $DataDir are left in place."
    return
}

$secrets = Join-Path $DataDir 'secrets'
$snapshots = Join-Path $DataDir 'snapshots'
New-Item -ItemType Directory -Force -Path $InstallDir, $DataDir, $secrets, $snapshots | Out-Null
# SYSTEM (S-1-5-18) and the Administrators group (S-1-5-32-544) only, by SID: the names are
# translated on non-English Windows. A service account other than LocalSystem needs read access too.
& icacls.exe $DataDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls.exe could not restrict $DataDir (exit code $LASTEXITCODE)" }

if ($service -and $service.Status -ne 'Stopped') {
    Stop-Service -Name $Name   # an upgrade: the running binary cannot be replaced
}
# This script goes along, so that -Uninstall works from the install folder.
if ((Resolve-Path -LiteralPath $PSScriptRoot).Path.TrimEnd('\') -ne (Resolve-Path -LiteralPath $InstallDir).Path.TrimEnd('\')) {
    Copy-Item -Force -LiteralPath (Join-Path $PSScriptRoot 'sfbex_exporter.exe'), (Join-Path $PSScriptRoot 'Export-SfbexSnapshot.ps1'), $PSCommandPath -Destination $InstallDir
}

$conf = Join-Path $DataDir 'sfbex_exporter.conf'
if (-not (Test-Path -LiteralPath $conf)) {
    Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'sfbex_exporter.conf.example') -Destination $conf
}

if (-not $service) {
    & $exe install "--service.config-file=$conf" "--service.log-file=$(Join-Path $DataDir 'sfbex_exporter.log')" "--service.arg=--web.listen-address=:$Port"
    if ($LASTEXITCODE -ne 0) { throw "sfbex_exporter.exe install failed with exit code $LASTEXITCODE" }
}

if (-not $NoFirewallRule -and -not (Get-NetFirewallRule -Name $Name -ErrorAction SilentlyContinue)) {
    New-NetFirewallRule -Name $Name -DisplayName 'sfbex_exporter (Prometheus scrapes)' -Direction Inbound `
        -Protocol TCP -LocalPort $Port -Program $exe -Action Allow | Out-Null
}

if ($service) {
    Start-Service -Name $Name
    Write-Host "Upgraded $Name in $InstallDir and started it again; the configuration $conf is unchanged."
} else {
    Write-Host "Installed $Name in $InstallDir. Edit $conf (notepad $conf), then: Start-Service $Name"
}
